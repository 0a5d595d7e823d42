//! Optimizers: a config (hyperparameters with defaults, read from JSON), per-parameter
//! state, and a step that applies gradient clipping, the learning-rate schedule and the
//! update rule (kernels in `kernels::optim`, written after torch.optim, PyTorch 1.13).
//!
//!   sgd({learningRate: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0})
//!   adam({learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, amsgrad: false})
//!   adamW({... as adam, weightDecay: 0.01})      decoupled decay: p *= 1 − lr·wd first
//!   rmsprop({learningRate: 0.01, rho: 0.99, epsilon: 1e-8, weightDecay: 0, momentum: 0, centered: false})
//!   adagrad({learningRate: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, epsilon: 1e-10})
//! plus, for all: clipNorm (global L2 norm, as clip_grad_norm_), clipValue, schedule.
//!
//! NOTE: epsilon defaults are torch's (Keras uses 1e-7 for Adam and RMSprop), and
//! RMSprop's `rho` is torch's `alpha`.

mod schedule;

pub use schedule::Schedule;

use crate::error::{Error, Result};
use crate::kernels::optim;
use crate::losses::Config;

#[derive(Clone, Debug, PartialEq)]
enum Rule {
    Sgd {
        momentum: f32,
        dampening: f32,
        nesterov: bool,
        wd: f32,
    },
    Adam {
        b1: f32,
        b2: f32,
        eps: f32,
        wd: f32,
        amsgrad: bool,
        decoupled: bool,
    },
    RmsProp {
        alpha: f32,
        eps: f32,
        wd: f32,
        momentum: f32,
        centered: bool,
    },
    Adagrad {
        lr_decay: f64,
        wd: f32,
        initial: f32,
        eps: f32,
    },
}

pub struct Optimizer {
    name: &'static str,
    lr: f64,
    rule: Rule,
    schedule: Schedule,
    clip_norm: Option<f64>,
    clip_value: Option<f32>,
    steps: u64,
    /// Per parameter: the rule's buffers (momentum, moments, accumulators), all of the parameter's length.
    state: Vec<Vec<Vec<f32>>>,
    /// Clipped gradients, reused from step to step.
    scratch: Vec<Vec<f32>>,
}

pub const NAMES: [&str; 5] = ["sgd", "adam", "adamW", "rmsprop", "adagrad"];

fn rate(cfg: &Config, key: &str, default: f64) -> Result<f64> {
    cfg.f64_where(key, default, "a finite number ≥ 0", |v| {
        v.is_finite() && v >= 0.0
    })
}

fn unit(cfg: &Config, key: &str, default: f64) -> Result<f32> {
    Ok(cfg.f64_where(key, default, "a number in [0, 1)", |v| {
        (0.0..1.0).contains(&v)
    })? as f32)
}

fn positive(cfg: &Config, key: &str, default: f64) -> Result<f32> {
    Ok(cfg.f64_where(key, default, "a finite number > 0", |v| {
        v.is_finite() && v > 0.0
    })? as f32)
}

impl Optimizer {
    /// Builds optimizer `name` from its JSON config.
    pub fn new(name: &str, config: &str) -> Result<Optimizer> {
        let name: &'static str = NAMES.iter().find(|n| **n == name).copied().ok_or_else(|| {
            Error::invalid(
                "optim",
                "name",
                "one of sgd, adam, adamW, rmsprop, adagrad",
                format!("\"{name}\""),
            )
        })?;
        let cfg = Config::parse(name, config)?;
        let common = [
            "learningRate",
            "weightDecay",
            "clipNorm",
            "clipValue",
            "schedule",
        ];
        let (lr_default, rule, keys): (f64, Rule, &[&str]) = match name {
            "sgd" => {
                let momentum = unit(&cfg, "momentum", 0.0)?;
                let nesterov = cfg.bool("nesterov", false)?;
                let dampening = unit(&cfg, "dampening", 0.0)?;
                if nesterov && (momentum == 0.0 || dampening != 0.0) {
                    return Err(Error::invalid(
                        name,
                        "nesterov",
                        "momentum > 0 and dampening 0 (as torch requires)",
                        format!("momentum {momentum}, dampening {dampening}"),
                    ));
                }
                (
                    0.01,
                    Rule::Sgd {
                        momentum,
                        dampening,
                        nesterov,
                        wd: rate(&cfg, "weightDecay", 0.0)? as f32,
                    },
                    &["momentum", "dampening", "nesterov"],
                )
            }
            "adam" | "adamW" => {
                let decoupled = name == "adamW";
                let rule = Rule::Adam {
                    b1: unit(&cfg, "beta1", 0.9)?,
                    b2: unit(&cfg, "beta2", 0.999)?,
                    eps: positive(&cfg, "epsilon", 1e-8)?,
                    wd: rate(&cfg, "weightDecay", if decoupled { 0.01 } else { 0.0 })? as f32,
                    amsgrad: cfg.bool("amsgrad", false)?,
                    decoupled,
                };
                (0.001, rule, &["beta1", "beta2", "epsilon", "amsgrad"])
            }
            "rmsprop" => {
                let rule = Rule::RmsProp {
                    alpha: unit(&cfg, "rho", 0.99)?,
                    eps: positive(&cfg, "epsilon", 1e-8)?,
                    wd: rate(&cfg, "weightDecay", 0.0)? as f32,
                    momentum: unit(&cfg, "momentum", 0.0)?,
                    centered: cfg.bool("centered", false)?,
                };
                (0.01, rule, &["rho", "epsilon", "momentum", "centered"])
            }
            _ => {
                let rule = Rule::Adagrad {
                    lr_decay: rate(&cfg, "lrDecay", 0.0)?,
                    wd: rate(&cfg, "weightDecay", 0.0)? as f32,
                    initial: rate(&cfg, "initialAccumulatorValue", 0.0)? as f32,
                    eps: positive(&cfg, "epsilon", 1e-10)?,
                };
                (
                    0.01,
                    rule,
                    &["lrDecay", "initialAccumulatorValue", "epsilon"],
                )
            }
        };
        let mut known: Vec<&str> = common.to_vec();
        known.extend_from_slice(keys);
        cfg.check_keys(&known)?;
        let clip_norm = match cfg.f64("clipNorm", -1.0)? {
            v if v == -1.0 => None,
            v if v.is_finite() && v > 0.0 => Some(v),
            v => {
                return Err(Error::invalid(
                    name,
                    "clipNorm",
                    "a finite number > 0",
                    format!("{v}"),
                ))
            }
        };
        let clip_value = match cfg.f64("clipValue", -1.0)? {
            v if v == -1.0 => None,
            v if v.is_finite() && v > 0.0 => Some(v as f32),
            v => {
                return Err(Error::invalid(
                    name,
                    "clipValue",
                    "a finite number > 0",
                    format!("{v}"),
                ))
            }
        };
        Ok(Optimizer {
            name,
            lr: rate(&cfg, "learningRate", lr_default)?,
            rule,
            schedule: Schedule::from_config(name, &cfg)?,
            clip_norm,
            clip_value,
            steps: 0,
            state: Vec::new(),
            scratch: Vec::new(),
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Steps taken so far.
    pub fn iterations(&self) -> u64 {
        self.steps
    }

    /// Sets the base learning rate (the schedule, if any, applies on top): for callbacks
    /// such as reduceLROnPlateau.
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::invalid(
                self.name,
                "learningRate",
                "a finite number ≥ 0",
                format!("{lr}"),
            ));
        }
        self.lr = lr;
        Ok(())
    }

    /// The base learning rate (before the schedule).
    pub fn base_learning_rate(&self) -> f64 {
        self.lr
    }

    /// The learning rate the next step will use.
    pub fn learning_rate(&self) -> f64 {
        self.schedule.at(self.lr, self.steps)
    }

    /// The steps taken and, per parameter, the rule's buffers (empty before the first
    /// step), for saving a model mid-training.
    pub fn export_state(&self) -> (u64, Vec<Vec<Vec<f32>>>) {
        (self.steps, self.state.clone())
    }

    /// Restores what `export_state` returned, so the next step is the one an
    /// uninterrupted run would take. Each parameter needs exactly this rule's number of
    /// buffers, all of one length; on error nothing has changed.
    pub fn import_state(&mut self, steps: u64, buffers: Vec<Vec<Vec<f32>>>) -> Result<()> {
        let k = self.buffers();
        for (i, b) in buffers.iter().enumerate() {
            if b.len() != k {
                return Err(Error::invalid(
                    self.name,
                    format!("state[{i}]"),
                    format!("{k} buffers per parameter"),
                    format!("{}", b.len()),
                ));
            }
            if let Some(first) = b.first() {
                if let Some(j) = b.iter().position(|x| x.len() != first.len()) {
                    return Err(Error::shape(
                        self.name,
                        format!("state[{i}][{j}]"),
                        format!("{} values, as state[{i}][0]", first.len()),
                        format!("{}", b[j].len()),
                    ));
                }
            }
        }
        self.steps = steps;
        if k == 0 {
            // Stateless rule: the first step sizes everything, exactly as it would have.
            self.state = Vec::new();
            self.scratch = Vec::new();
        } else {
            self.scratch = buffers.iter().map(|b| vec![0.0; b[0].len()]).collect();
            self.state = buffers;
        }
        Ok(())
    }

    fn buffers(&self) -> usize {
        match self.rule {
            Rule::Sgd { momentum, .. } => usize::from(momentum != 0.0),
            Rule::Adam { amsgrad, .. } => 2 + usize::from(amsgrad),
            Rule::RmsProp {
                momentum, centered, ..
            } => 1 + usize::from(centered) + usize::from(momentum != 0.0),
            Rule::Adagrad { .. } => 1,
        }
    }

    /// One update of every parameter from its gradient. Validates everything first, so
    /// on error nothing has changed.
    pub fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) -> Result<()> {
        if params.len() != grads.len() {
            return Err(Error::invalid(
                self.name,
                "grads",
                format!("one gradient per parameter ({})", params.len()),
                format!("{}", grads.len()),
            ));
        }
        self.step_each(|f| {
            for (p, g) in params.iter_mut().zip(grads) {
                f(p, g);
            }
        })
    }

    /// `step` over parameters that `walk` visits, calling its argument with each
    /// (values, gradient) pair in the same order every time: a training step walks its
    /// layers' parameters without collecting them. `walk` runs twice (clipping needs
    /// every gradient before the first update).
    pub fn step_each(
        &mut self,
        mut walk: impl FnMut(&mut dyn FnMut(&mut [f32], &[f32])),
    ) -> Result<()> {
        self.step_walk(&mut walk)
    }

    fn step_walk(
        &mut self,
        walk: &mut dyn FnMut(&mut dyn FnMut(&mut [f32], &[f32])),
    ) -> Result<()> {
        // Pass 1: validate (and size the state at the first step); clipping copies the
        // gradients into `scratch` (the caller's stay as they were) and clips there.
        let fresh = self.state.is_empty();
        let k = self.buffers();
        let init = if let Rule::Adagrad { initial, .. } = self.rule {
            initial
        } else {
            0.0
        };
        let clip = self.clip_value.is_some() || self.clip_norm.is_some();
        let mut error = None;
        let mut i = 0;
        {
            let (state, scratch, name) = (&mut self.state, &mut self.scratch, self.name);
            walk(&mut |p: &mut [f32], g: &[f32]| {
                if error.is_some() {
                    return;
                }
                if p.len() != g.len() {
                    error = Some(Error::shape(
                        name,
                        format!("grads[{i}]"),
                        format!("{} values, as params[{i}]", p.len()),
                        format!("{}", g.len()),
                    ));
                    return;
                }
                if fresh {
                    state.push((0..k).map(|_| vec![init; p.len()]).collect());
                    scratch.push(vec![0.0; p.len()]);
                } else if state
                    .get(i)
                    .map_or(true, |s| s.first().is_some_and(|b| b.len() != p.len()))
                    || scratch[i].len() != p.len()
                {
                    error = Some(Error::state(
                        name,
                        "the same parameters at every step",
                        "a different set of parameters",
                    ));
                    return;
                }
                if clip {
                    scratch[i].copy_from_slice(g);
                }
                i += 1;
            });
        }
        if error.is_none() && !fresh && i != self.state.len() {
            error = Some(Error::state(
                self.name,
                "the same parameters at every step",
                "a different set of parameters",
            ));
        }
        if let Some(e) = error {
            if fresh {
                self.state.clear();
                self.scratch.clear();
            }
            return Err(e);
        }
        if let Some(v) = self.clip_value {
            for s in &mut self.scratch {
                optim::clip_values(s, v);
            }
        }
        if let Some(max) = self.clip_norm {
            let total = self
                .scratch
                .iter()
                .fold(0.0, |acc, s| optim::add_squares(acc, s))
                .sqrt();
            let coef = max / (total + 1e-6);
            if coef < 1.0 {
                for s in &mut self.scratch {
                    optim::scale(s, coef);
                }
            }
        }
        let lr = self.learning_rate();
        self.steps += 1;
        let t = self.steps;
        // Pass 2: the update, parameter by parameter.
        let mut i = 0;
        let (rule, states, scratch) = (&self.rule, &mut self.state, &self.scratch);
        walk(&mut |p: &mut [f32], g: &[f32]| {
            let g = if clip { &scratch[i][..] } else { g };
            let state = &mut states[i];
            i += 1;
            match *rule {
                Rule::Sgd {
                    momentum,
                    dampening,
                    nesterov,
                    wd,
                } => optim::sgd(
                    p,
                    g,
                    state.first_mut().map(|b| &mut b[..]),
                    lr as f32,
                    momentum,
                    dampening,
                    nesterov,
                    wd,
                    t == 1,
                ),
                Rule::Adam {
                    b1,
                    b2,
                    eps,
                    wd,
                    amsgrad,
                    decoupled,
                } => {
                    let bc1 = 1.0 - (b1 as f64).powi(t as i32);
                    let bc2 = 1.0 - (b2 as f64).powi(t as i32);
                    let (m, rest) = state.split_first_mut().expect("adam state");
                    let (v, rest) = rest.split_first_mut().expect("adam state");
                    let vmax = if amsgrad {
                        rest.first_mut().map(|b| &mut b[..])
                    } else {
                        None
                    };
                    optim::adam(
                        p, g, m, v, vmax, lr as f32, b1, b2, eps, wd, decoupled, bc1 as f32,
                        bc2 as f32,
                    )
                }
                Rule::RmsProp {
                    alpha,
                    eps,
                    wd,
                    momentum,
                    centered,
                } => {
                    let (sq, rest) = state.split_first_mut().expect("rmsprop state");
                    let (ga, rest) = if centered {
                        let (a, r) = rest.split_first_mut().expect("centered");
                        (Some(&mut a[..]), r)
                    } else {
                        (None, rest)
                    };
                    let buf = if momentum != 0.0 {
                        rest.first_mut().map(|b| &mut b[..])
                    } else {
                        None
                    };
                    optim::rmsprop(p, g, sq, ga, buf, lr as f32, alpha, eps, wd, momentum)
                }
                Rule::Adagrad {
                    lr_decay, wd, eps, ..
                } => {
                    let clr = lr / (1.0 + (t - 1) as f64 * lr_decay);
                    optim::adagrad(p, g, &mut state[0], clr as f32, eps, wd)
                }
            }
        });
        Ok(())
    }
}
