//! Learning-rate schedules, as a function of the number of steps taken t (0 for the first):
//!   constant                         lr
//!   exponential {gamma, decaySteps=1, staircase=false}   lr·γ^(t/decaySteps) (floored if staircase)
//!   step {stepSize, gamma=0.1}       lr·γ^⌊t/stepSize⌋                      (torch StepLR)
//!   cosine {tMax, etaMin=0}          ηmin + (lr − ηmin)·(1 + cos(π·min(t, tMax)/tMax))/2 (CosineAnnealingLR)
//!   warmup {warmupSteps, then?}      lr·(t+1)/warmupSteps while t < warmupSteps, then `then` at t − warmupSteps

use crate::error::{Error, Result};
use crate::json::Value;
use crate::losses::Config;

#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    Exponential {
        gamma: f64,
        decay_steps: f64,
        staircase: bool,
    },
    Step {
        step_size: u64,
        gamma: f64,
    },
    Cosine {
        t_max: u64,
        eta_min: f64,
    },
    Warmup {
        steps: u64,
        then: Box<Schedule>,
    },
}

impl Schedule {
    pub fn from_config(op: &'static str, cfg: &Config) -> Result<Schedule> {
        match cfg.raw("schedule") {
            None => Ok(Schedule::Constant),
            Some(v) => Schedule::parse(op, v),
        }
    }

    fn parse(op: &'static str, v: &Value) -> Result<Schedule> {
        let cfg = Config::from_value(op, v).map_err(|_| {
            Error::invalid(
                op,
                "schedule",
                "an object such as { type: \"cosine\", tMax: 1000 }",
                v.to_string(),
            )
        })?;
        let kind = cfg.choice("type", "", &["exponential", "step", "cosine", "warmup"])?;
        let count = |key: &str| -> Result<u64> {
            let n = cfg.f64_where(key, f64::NAN, "a positive integer", |x| {
                x.is_finite() && x >= 1.0 && x.fract() == 0.0
            })?;
            Ok(n as u64)
        };
        let gamma = |default: f64| {
            cfg.f64_where("gamma", default, "a number in (0, 1]", |g| {
                g > 0.0 && g <= 1.0
            })
        };
        Ok(match kind {
            "exponential" => {
                cfg.check_keys(&["type", "gamma", "decaySteps", "staircase"])?;
                let decay = cfg.f64_where("decaySteps", 1.0, "a number > 0", |x| {
                    x.is_finite() && x > 0.0
                })?;
                Schedule::Exponential {
                    gamma: gamma(f64::NAN)?,
                    decay_steps: decay,
                    staircase: cfg.bool("staircase", false)?,
                }
            }
            "step" => {
                cfg.check_keys(&["type", "gamma", "stepSize"])?;
                Schedule::Step {
                    step_size: count("stepSize")?,
                    gamma: gamma(0.1)?,
                }
            }
            "cosine" => {
                cfg.check_keys(&["type", "tMax", "etaMin"])?;
                Schedule::Cosine {
                    t_max: count("tMax")?,
                    eta_min: cfg.f64_where("etaMin", 0.0, "a number ≥ 0", |x| {
                        x.is_finite() && x >= 0.0
                    })?,
                }
            }
            "warmup" => {
                cfg.check_keys(&["type", "warmupSteps", "then"])?;
                let then = match cfg.raw("then") {
                    None => Schedule::Constant,
                    Some(v) => Schedule::parse(op, v)?,
                };
                Schedule::Warmup {
                    steps: count("warmupSteps")?,
                    then: Box::new(then),
                }
            }
            _ => {
                return Err(Error::invalid(
                    op,
                    "schedule",
                    "a `type`: \"exponential\", \"step\", \"cosine\" or \"warmup\"",
                    v.to_string(),
                ))
            }
        })
    }

    /// The learning rate for step t (0-based) given the base rate.
    pub fn at(&self, lr: f64, t: u64) -> f64 {
        match self {
            Schedule::Constant => lr,
            Schedule::Exponential {
                gamma,
                decay_steps,
                staircase,
            } => {
                let e = t as f64 / decay_steps;
                lr * gamma.powf(if *staircase { e.floor() } else { e })
            }
            Schedule::Step { step_size, gamma } => lr * gamma.powi((t / step_size) as i32),
            Schedule::Cosine { t_max, eta_min } => {
                let x = t.min(*t_max) as f64 / *t_max as f64;
                eta_min + (lr - eta_min) * (1.0 + (std::f64::consts::PI * x).cos()) / 2.0
            }
            Schedule::Warmup { steps, then } => {
                if t < *steps {
                    lr * (t + 1) as f64 / *steps as f64
                } else {
                    then.at(lr, t - steps)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(json: &str) -> Result<Schedule> {
        Schedule::from_config("sgd", &Config::parse("sgd", json)?)
    }

    #[test]
    fn rates_follow_the_formulas() {
        assert_eq!(sched("{}").unwrap().at(0.1, 7), 0.1);
        assert!(
            (sched(r#"{"schedule":{"type":"step","stepSize":3,"gamma":0.5}}"#)
                .unwrap()
                .at(1.0, 7)
                - 0.25)
                .abs()
                < 1e-12
        );
        let c = sched(r#"{"schedule":{"type":"cosine","tMax":10}}"#).unwrap();
        assert_eq!(c.at(1.0, 0), 1.0);
        assert!((c.at(1.0, 5) - 0.5).abs() < 1e-12);
        assert!(c.at(1.0, 10).abs() < 1e-12);
        let w = sched(r#"{"schedule":{"type":"warmup","warmupSteps":4,"then":{"type":"exponential","gamma":0.5}}}"#).unwrap();
        assert_eq!(
            [w.at(1.0, 0), w.at(1.0, 3), w.at(1.0, 4), w.at(1.0, 5)],
            [0.25, 1.0, 1.0, 0.5]
        );
    }

    #[test]
    fn bad_schedules_are_named() {
        assert_eq!(
            sched(r#"{"schedule":{"type":"cosine"}}"#).unwrap_err().arg,
            "tMax"
        );
        assert_eq!(
            sched(r#"{"schedule":{"type":"linear"}}"#).unwrap_err().arg,
            "type"
        );
        assert_eq!(sched(r#"{"schedule":3}"#).unwrap_err().arg, "schedule");
    }
}
