//! (being written)

use super::{Config, Loss};
use crate::error::{Error, Result};

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    Err(Error::invalid(
        cfg.op,
        "name",
        "an implemented loss",
        "one still being written",
    ))
}
