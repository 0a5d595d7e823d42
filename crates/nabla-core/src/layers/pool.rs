//! (being written)

use super::Layer;
use crate::error::{Error, Result};
use crate::losses::Config;

pub fn build_max_pool1d(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}

pub fn build_max_pool2d(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}

pub fn build_avg_pool1d(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}

pub fn build_avg_pool2d(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}

pub fn build_global_avg_pool1d(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}

pub fn build_global_avg_pool2d(cfg: &Config) -> Result<Box<dyn Layer>> {
    Err(Error::invalid(cfg.op, "kind", "an implemented layer", "one still being written"))
}
