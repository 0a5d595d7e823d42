//! `nb.losses.advise`: which loss fits a task, with which configuration, and why.
//! A small decision table over what the user knows about the problem; every
//! recommendation is a loss in the catalogue with a config that builds.

use super::Config;
use crate::error::{Error, Result};
use crate::json::{json, Value};

const TASKS: &[&str] = &[
    "regression",
    "binary",
    "multiclass",
    "multilabel",
    "sequence",
    "ranking",
    "segmentation",
];

/// Reads the question (`{ task, output, outliers, classImbalance, ... }`) and answers with
/// `{ loss, config, reasons, alternatives }`.
pub fn advise(question: &str) -> Result<Value> {
    let q = Config::parse("losses.advise", question)?;
    q.check_keys(&[
        "task",
        "output",
        "outliers",
        "classImbalance",
        "network",
        "aligned",
        "ranking",
        "counts",
        "uncertainty",
    ])?;
    let task = q.choice("task", "", TASKS).and_then(|t| {
        if t.is_empty() {
            Err(Error::invalid(
                "losses.advise",
                "task",
                format!("one of {}", TASKS.join(", ")),
                "nothing",
            ))
        } else {
            Ok(t)
        }
    })?;
    let output = q.choice("output", "logits", &["logits", "probabilities"])?;
    let logits = output == "logits";
    let outliers = q.bool("outliers", false)?;
    // classImbalance: true, or the ratio of the largest to the smallest class frequency.
    let ratio = match q.bool("classImbalance", false) {
        Ok(true) => 10.0,
        Ok(false) => 1.0,
        Err(_) => q.f64_where(
            "classImbalance",
            1.0,
            "true/false or a frequency ratio ≥ 1",
            |v| v >= 1.0,
        )?,
    };
    let imbalanced = ratio >= 3.0;
    let network = q.choice("network", "mlp", &["mlp", "cnn", "rnn"])?;
    let mut reasons: Vec<String> = Vec::new();
    let mut alternatives: Vec<Value> = Vec::new();
    let from_logits_reason = if logits {
        "the model outputs logits: fromLogits: true computes log-softmax/log-sigmoid by the log-sum-exp trick, finite for any logit, and its gradient (p − y) never vanishes through a saturated activation"
    } else {
        "the model outputs probabilities: the loss clips them to [ε, 1−ε] before the log; a final softmax/sigmoid saturates, so prefer removing it and passing fromLogits: true"
    };
    let (loss, config) = match task {
        "regression" => {
            if q.bool("counts", false)? {
                reasons.push("targets are counts: the Poisson negative log-likelihood models them; with logInput the model predicts log-rates, so rates stay positive".into());
                ("poissonNll", json!({ "logInput": true }))
            } else if q.bool("uncertainty", false)? {
                reasons.push("you want a predicted variance: the Gaussian negative log-likelihood learns mean and variance together (gaussianNll(yTrue, mean, variance))".into());
                ("gaussianNll", json!({}))
            } else if outliers {
                reasons.push("targets have outliers: Huber is quadratic within delta of the target and linear beyond, so an outlier's gradient is bounded by delta instead of growing with the error as MSE's does".into());
                if network == "rnn" {
                    reasons.push("in a recurrent network a bounded per-step gradient also keeps backpropagation through time from being dominated by a few large errors".into());
                }
                alternatives.push(json!({ "loss": "mae", "config": {}, "when": "you want the conditional median and constant-size gradients" }));
                alternatives.push(json!({ "loss": "logCosh", "config": {}, "when": "you want Huber's behaviour with a smooth second derivative" }));
                ("huber", json!({ "delta": 1.0 }))
            } else {
                reasons.push("targets are continuous with roughly Gaussian noise: the mean squared error is its maximum-likelihood loss and gives gradients proportional to the error".into());
                alternatives.push(json!({ "loss": "huber", "config": { "delta": 1.0 }, "when": "the data has outliers" }));
                ("mse", json!({}))
            }
        }
        "binary" => {
            reasons.push("one yes/no output per sample: binary cross-entropy is the Bernoulli negative log-likelihood".into());
            reasons.push(from_logits_reason.into());
            if imbalanced {
                reasons.push(format!("classes are imbalanced (about {ratio}:1): focal loss down-weights the many easy examples by (1 − p_t)^γ so the rare class drives learning"));
                alternatives.push(json!({ "loss": "binaryCrossEntropy", "config": { "fromLogits": logits, "posWeight": ratio }, "when": "you prefer to reweight positives by the imbalance ratio" }));
                (
                    "focal",
                    json!({ "gamma": 2.0, "alpha": 0.25, "fromLogits": logits }),
                )
            } else {
                alternatives.push(json!({ "loss": "hinge", "config": {}, "when": "you want a max-margin classifier (labels ±1, raw scores)" }));
                ("binaryCrossEntropy", json!({ "fromLogits": logits }))
            }
        }
        "multiclass" => {
            reasons.push("one class out of C per sample: categorical cross-entropy is the negative log-likelihood of a softmax; it takes integer labels (Int32Array) or one-hot/probability targets".into());
            reasons.push(from_logits_reason.into());
            if imbalanced {
                reasons.push(format!("classes are imbalanced (about {ratio}:1): pass classWeights (e.g. inverse class frequencies) so rare classes weigh as much in the mean; focal loss is the alternative when easy examples dominate"));
                alternatives.push(json!({ "loss": "focal", "config": { "gamma": 2.0, "fromLogits": logits }, "when": "many easy, confidently classified examples dominate" }));
            }
            if network == "cnn" {
                reasons.push("for image classifiers, labelSmoothing: 0.1 often improves calibration and test accuracy".into());
            }
            alternatives.push(json!({ "loss": "crossEntropy", "config": { "fromLogits": logits, "labelSmoothing": 0.1 }, "when": "the model becomes over-confident" }));
            alternatives.push(json!({ "loss": "mse", "config": {}, "when": "never for classification: on one-hot targets its gradient vanishes when a softmax saturates, and it learns more slowly" }));
            ("crossEntropy", json!({ "fromLogits": logits }))
        }
        "multilabel" => {
            reasons.push("several independent yes/no labels per sample: one sigmoid and binary cross-entropy per label (not a softmax, which would make the labels compete)".into());
            reasons.push(from_logits_reason.into());
            alternatives.push(json!({ "loss": "multilabelSoftMargin", "config": {}, "when": "you want PyTorch's per-sample averaged form" }));
            ("binaryCrossEntropy", json!({ "fromLogits": logits }))
        }
        "sequence" => {
            if q.bool("aligned", true)? {
                reasons.push("one label per time step: sequence cross-entropy over [batch, time, classes], padded steps excluded by ignoreIndex or a mask, averaged over the real tokens".into());
                reasons.push(from_logits_reason.into());
                alternatives.push(json!({ "loss": "sequenceCrossEntropy", "config": { "fromLogits": logits, "normalize": "timesteps" }, "when": "you want each time step weighted equally (mean over steps of per-step losses)" }));
                (
                    "sequenceCrossEntropy",
                    json!({ "fromLogits": logits, "ignoreIndex": -100, "normalize": "tokens" }),
                )
            } else {
                reasons.push("the label sequence is shorter than the input and not aligned to it (speech, handwriting): CTC sums over all alignments with a blank symbol".into());
                if !logits {
                    reasons.push("with fromLogits: false, ctc takes log-probabilities: pass nb.log(probabilities), or better, drop the final softmax and use fromLogits: true".into());
                }
                (
                    "ctc",
                    json!({ "blank": 0, "fromLogits": logits, "zeroInfinity": true }),
                )
            }
        }
        "ranking" => match q.choice("ranking", "pairs", &["pairs", "triplets", "similarity"])? {
            "triplets" => {
                reasons.push("anchor/positive/negative triplets: the triplet margin loss pulls the positive closer than the negative by a margin".into());
                ("tripletMargin", json!({ "margin": 1.0, "p": 2.0 }))
            }
            "similarity" => {
                reasons.push("pairs labeled similar (1) or dissimilar (−1) in an embedding space: the cosine embedding loss works on directions, not lengths".into());
                ("cosineEmbedding", json!({ "margin": 0.0 }))
            }
            _ => {
                reasons.push("pairs of scores where one should rank above the other (label ±1): the margin ranking loss".into());
                ("marginRanking", json!({ "margin": 0.0 }))
            }
        },
        _ => {
            // segmentation
            reasons.push("per-pixel masks: the Dice loss measures overlap directly and is insensitive to how much background there is".into());
            if imbalanced {
                reasons.push("the foreground is rare: Tversky with beta > alpha penalizes missed foreground (false negatives) more than false alarms".into());
                alternatives.push(json!({ "loss": "dice", "config": { "smooth": 1.0 }, "when": "false positives and negatives cost the same" }));
                (
                    "tversky",
                    json!({ "alpha": 0.3, "beta": 0.7, "smooth": 1.0 }),
                )
            } else {
                alternatives.push(json!({ "loss": "binaryCrossEntropy", "config": { "fromLogits": logits }, "when": "per-pixel calibration matters; often summed with Dice" }));
                ("dice", json!({ "smooth": 1.0 }))
            }
        }
    };
    Ok(
        json!({ "loss": loss, "config": config, "reasons": reasons, "alternatives": alternatives, "task": task, "output": output }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::build;
    use super::*;

    #[test]
    fn every_recommendation_builds() {
        let questions = [
            r#"{"task":"regression"}"#,
            r#"{"task":"regression","outliers":true,"network":"rnn"}"#,
            r#"{"task":"regression","counts":true}"#,
            r#"{"task":"regression","uncertainty":true}"#,
            r#"{"task":"binary","output":"probabilities"}"#,
            r#"{"task":"binary","classImbalance":20}"#,
            r#"{"task":"multiclass","network":"cnn","classImbalance":true}"#,
            r#"{"task":"multilabel"}"#,
            r#"{"task":"sequence"}"#,
            r#"{"task":"sequence","aligned":false}"#,
            r#"{"task":"ranking","ranking":"triplets"}"#,
            r#"{"task":"ranking","ranking":"similarity"}"#,
            r#"{"task":"ranking"}"#,
            r#"{"task":"segmentation","classImbalance":true}"#,
            r#"{"task":"segmentation"}"#,
        ];
        for q in questions {
            let a = advise(q).unwrap();
            let mut recs = vec![(a["loss"].clone(), a["config"].clone())];
            for alt in a["alternatives"].as_array().unwrap() {
                recs.push((alt["loss"].clone(), alt["config"].clone()));
            }
            assert!(!a["reasons"].as_array().unwrap().is_empty(), "{q}");
            for (loss, config) in recs {
                let (name, cfg) = (loss.as_str().unwrap(), config.to_string());
                if let Err(e) = build(name, &cfg) {
                    // Losses still being written are allowed to refuse; a bad config is not.
                    assert_eq!(
                        e.received, "one still being written",
                        "{q} → {name} {cfg}: {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn picks_by_output_and_data() {
        assert_eq!(
            advise(r#"{"task":"multiclass"}"#).unwrap()["config"]["fromLogits"],
            true
        );
        assert_eq!(
            advise(r#"{"task":"multiclass","output":"probabilities"}"#).unwrap()["config"]
                ["fromLogits"],
            false
        );
        assert_eq!(
            advise(r#"{"task":"regression","outliers":true}"#).unwrap()["loss"],
            "huber"
        );
        assert_eq!(
            advise(r#"{"task":"binary","classImbalance":2}"#).unwrap()["loss"],
            "binaryCrossEntropy"
        );
        assert_eq!(
            advise(r#"{"task":"binary","classImbalance":5}"#).unwrap()["loss"],
            "focal"
        );
    }

    #[test]
    fn bad_questions_are_named() {
        let e = advise(r#"{"task":"clustering"}"#).unwrap_err();
        assert_eq!(e.to_string(), "losses.advise: invalid `task`: expected one of \"regression\", \"binary\", \"multiclass\", \"multilabel\", \"sequence\", \"ranking\", \"segmentation\", received \"clustering\"");
        assert_eq!(advise("{}").unwrap_err().arg, "task");
        assert_eq!(
            advise(r#"{"task":"binary","outlier":true}"#)
                .unwrap_err()
                .arg,
            "config"
        );
    }
}
