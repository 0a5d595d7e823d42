//! What `compile` warns about: a loss that does not fit what the model outputs. The
//! model's output kind is read from its last activation; each warning names the fix.

use super::Sequential;
use crate::json::Value;

/// What the last layer produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    Logits,
    Softmax,
    Sigmoid,
    LogSoftmax,
    Other,
}

fn activation_of(config: &Value) -> Option<String> {
    match config.get("activation")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("type").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

impl Sequential {
    fn output_kind(&self) -> (Output, usize) {
        let units = self
            .output_shapes()
            .last()
            .and_then(|s| s.last().copied())
            .unwrap_or(0);
        // The last layer that has an activation decides; reshaping layers pass it through.
        for (kind, config) in self.specs().iter().rev() {
            if matches!(kind.as_str(), "flatten" | "reshape" | "dropout") {
                continue;
            }
            let config: Value = crate::json::parse(config).unwrap_or(Value::Null);
            let act = activation_of(&config).unwrap_or_else(|| "linear".into());
            let out = match act.as_str() {
                "softmax" => Output::Softmax,
                "sigmoid" => Output::Sigmoid,
                "logSoftmax" => Output::LogSoftmax,
                "linear"
                    if matches!(kind.as_str(), "dense" | "conv1d" | "conv2d" | "activation") =>
                {
                    Output::Logits
                }
                _ => Output::Other,
            };
            return (out, units);
        }
        (Output::Other, units)
    }

    /// Warnings about the compiled loss for this model's output, each naming the fix.
    pub fn compile_warnings(&self) -> Vec<String> {
        let Some(((loss, config), _)) = self.compiled() else {
            return Vec::new();
        };
        let config: Value = crate::json::parse(config).unwrap_or(Value::Null);
        let from_logits = config
            .get("fromLogits")
            .and_then(Value::as_bool)
            .unwrap_or(loss == "ctc");
        let (out, units) = self.output_kind();
        let probs = matches!(out, Output::Softmax | Output::Sigmoid);
        let act = match out {
            Output::Softmax => "softmax",
            Output::Sigmoid => "sigmoid",
            _ => "",
        };
        let mut w = Vec::new();
        let takes_logits_option = matches!(
            loss.as_str(),
            "crossEntropy" | "binaryCrossEntropy" | "focal" | "sequenceCrossEntropy"
        );
        if takes_logits_option && probs && from_logits {
            w.push(format!(
                "{loss}: the model ends in {act} (probabilities) but the loss is told fromLogits: true, so it applies {act} a second time; remove the final activation (recommended: more stable) or pass fromLogits: false"
            ));
        }
        if takes_logits_option && out == Output::Logits && !from_logits {
            w.push(format!(
                "{loss}: the model outputs logits (its last layer has no activation) but the loss expects probabilities (fromLogits is false by default); pass fromLogits: true"
            ));
        }
        if matches!(
            loss.as_str(),
            "mse" | "mae" | "huber" | "smoothL1" | "logCosh"
        ) && (out == Output::Softmax || (out == Output::Sigmoid && units > 1))
        {
            w.push(format!(
                "{loss}: the model ends in {act}, a classifier, but {loss} is a regression loss: its gradient vanishes as {act} saturates and learning slows; use crossEntropy (or binaryCrossEntropy for independent labels)"
            ));
        }
        if loss == "binaryCrossEntropy" && out == Output::Softmax && units > 2 {
            w.push(format!(
                "binaryCrossEntropy: the model ends in softmax over {units} exclusive classes; binary cross-entropy treats each as an independent yes/no. Use crossEntropy for exclusive classes, or sigmoid outputs for independent labels"
            ));
        }
        if loss == "nll" && out != Output::LogSoftmax {
            w.push("nll: the loss takes log-probabilities but the model does not end in logSoftmax; add activation: \"logSoftmax\" to the last layer, or use crossEntropy({ fromLogits: true }) on logits".to_string());
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(last: &str, loss: (&str, &str)) -> Vec<String> {
        let layers = vec![
            (
                "dense".to_string(),
                r#"{"units":8,"activation":"relu"}"#.to_string(),
            ),
            ("dense".to_string(), last.to_string()),
        ];
        let mut m = Sequential::new(&layers, &[4], 1).unwrap();
        m.compile(loss, ("adam", "")).unwrap();
        m.compile_warnings()
    }

    #[test]
    fn each_mismatch_is_named_with_its_fix() {
        assert!(model(r#"{"units":3}"#, ("crossEntropy", r#"{"fromLogits":true}"#)).is_empty());
        assert!(model(
            r#"{"units":3,"activation":"softmax"}"#,
            ("crossEntropy", "")
        )
        .is_empty());
        assert!(model(
            r#"{"units":3,"activation":"softmax"}"#,
            ("crossEntropy", r#"{"fromLogits":true}"#)
        )[0]
        .contains("remove the final activation"));
        assert!(model(r#"{"units":3}"#, ("crossEntropy", ""))[0].contains("pass fromLogits: true"));
        assert!(
            model(r#"{"units":3,"activation":"softmax"}"#, ("mse", ""))[0]
                .contains("use crossEntropy")
        );
        assert!(model(
            r#"{"units":4,"activation":"softmax"}"#,
            ("binaryCrossEntropy", "")
        )
        .iter()
        .any(|w| w.contains("exclusive classes")));
        assert!(model(r#"{"units":3}"#, ("nll", ""))[0].contains("logSoftmax"));
        assert!(model(r#"{"units":1}"#, ("mse", "")).is_empty());
    }
}
