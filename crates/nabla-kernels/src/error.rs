//! The one error type of nabla-core: which op failed, on which argument, what it
//! expected and what it received, with a stable code the bindings pass to JavaScript.

use std::fmt;

/// Stable error codes. The strings never change once published: JavaScript code
/// switches on them, and the TypeScript package maps each to a `NablaError` subclass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A shape, rank or length does not fit what the op needs (`ShapeError`).
    ShapeMismatch,
    /// An argument's value is outside what the op accepts (`ValueError`).
    InvalidArgument,
    /// A tensor of the wrong element type, e.g. int32 labels where floats are needed (`ValueError`).
    DTypeMismatch,
    /// A tensor handle that was disposed (`StateError`).
    Disposed,
    /// A call that is not allowed in the current state, e.g. a nested `grad` (`StateError`).
    InvalidState,
    /// Backward through an op that has no derivative (`GradientError`).
    NoGradient,
    /// Training produced NaN or infinity (`NumericError`).
    NonFinite,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ShapeMismatch => "SHAPE_MISMATCH",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DTypeMismatch => "DTYPE_MISMATCH",
            Code::Disposed => "DISPOSED",
            Code::InvalidState => "INVALID_STATE",
            Code::NoGradient => "NO_GRADIENT",
            Code::NonFinite => "NON_FINITE",
        }
    }

    /// The `NablaError` subclass the TypeScript package throws for this code.
    pub fn class(self) -> &'static str {
        match self {
            Code::ShapeMismatch => "ShapeError",
            Code::InvalidArgument | Code::DTypeMismatch => "ValueError",
            Code::Disposed | Code::InvalidState => "StateError",
            Code::NoGradient => "GradientError",
            Code::NonFinite => "NumericError",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: Code,
    /// The public name of the op, as users call it (`matmul`, `tensor`).
    pub op: &'static str,
    /// The argument at fault, as named in the public API.
    pub arg: String,
    pub expected: String,
    pub received: String,
}

impl Error {
    /// The one constructor the named ones below share.
    pub fn new(
        code: Code,
        op: &'static str,
        arg: impl Into<String>,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Error {
            code,
            op,
            arg: arg.into(),
            expected: expected.into(),
            received: received.into(),
        }
    }

    pub fn shape(
        op: &'static str,
        arg: impl Into<String>,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Error::new(Code::ShapeMismatch, op, arg, expected, received)
    }

    pub fn invalid(
        op: &'static str,
        arg: impl Into<String>,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Error::new(Code::InvalidArgument, op, arg, expected, received)
    }

    pub fn dtype(
        op: &'static str,
        arg: impl Into<String>,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Error::new(Code::DTypeMismatch, op, arg, expected, received)
    }

    pub fn disposed(op: &'static str, arg: impl Into<String>) -> Self {
        Error::new(
            Code::Disposed,
            op,
            arg,
            "a live tensor",
            "a disposed tensor",
        )
    }

    pub fn state(
        op: &'static str,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Error::new(Code::InvalidState, op, "", expected, received)
    }

    /// Training diverged: `expected` says what should have been finite, `received` what was.
    pub fn numeric(
        op: &'static str,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Self {
        Error::new(Code::NonFinite, op, "", expected, received)
    }

    /// Backward reached `op`, which has no derivative.
    pub fn no_gradient(op: &'static str) -> Self {
        Error::new(
            Code::NoGradient,
            op,
            "",
            "a differentiable op",
            format!("`{op}`, which has no gradient"),
        )
    }

    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (op, arg, expected, received) = (self.op, &self.arg, &self.expected, &self.received);
        match self.code {
            Code::NoGradient => write!(
                f,
                "{op}: no gradient is defined for this op; it cannot be differentiated"
            ),
            Code::InvalidState | Code::NonFinite => {
                write!(f, "{op}: expected {expected}, received {received}")
            }
            Code::Disposed => write!(f, "{op}: invalid `{arg}`: the tensor was disposed"),
            _ => write!(
                f,
                "{op}: invalid `{arg}`: expected {expected}, received {received}"
            ),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_op_argument_expected_and_received() {
        let e = Error::shape("matmul", "b", "2 rows (a has 2 columns)", "3 rows");
        assert_eq!(
            e.to_string(),
            "matmul: invalid `b`: expected 2 rows (a has 2 columns), received 3 rows"
        );
        assert_eq!(e.code(), "SHAPE_MISMATCH");
        assert_eq!(e.code.class(), "ShapeError");
    }
}
