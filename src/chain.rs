//! An error and its causes as one message: the one way obsbuild turns an error into text.
//!
//! Every error type of obsbuild says what it was doing in its own message and hands the
//! underlying error (an `io::Error`, a JSON error, Docker's answer) out as its
//! [`source`](std::error::Error::source), never repeating it. So the text is the chain,
//! each part once: `cannot write the switch journal `…`: Is a directory (os error 21)`.

use std::error::Error;

/// `error`'s message followed by each cause's, separated by `: `; a cause whose text is
/// already in the message (some libraries repeat it) is not repeated.
pub fn render(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot write `journal`")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_once() {
        let e = Outer(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(super::render(&e), "cannot write `journal`: permission denied");
    }
}
