//! (being written)

use super::Layer;
use crate::error::{Error, Result};
use crate::losses::Config;

pub fn build_simple_rnn(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}

pub fn build_lstm(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}

pub fn build_gru(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}
