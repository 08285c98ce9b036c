//! LogQL's tokens, with their byte offsets.

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A label or function name, keyword, or stage name.
    Ident(String),
    /// A quoted string, unescaped.
    Str(String),
    /// A number, duration (`5m`, `1.5h`) or byte size (`20KB`).
    Num(String),
    /// `--strict`, `--keep-empty`.
    Flag(String),
    /// Operators and punctuation: `|=`, `!~`, `(`, `,`, ...
    Op(&'static str),
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub at: usize,
}

/// Longest first, so `|=` is read before `|`.
const OPS: &[&str] = &[
    "|=", "|~", "|>", "!=", "!~", "!>", "=~", "==", ">=", "<=", "|", "=", ">", "<", "(", ")", "{", "}", "[", "]", ",", "+", "-", "*", "/", "%",
    "^",
];

/// `text` as tokens, or the message and offset of what is no LogQL token.
pub fn tokens(text: &str) -> Result<Vec<Token>, (String, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' || c == b'`' {
            let (s, end) = string(text, i)?;
            out.push(Token { tok: Tok::Str(s), at });
            i = end;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            // `µs` is a Go duration unit.
            while text[i..].starts_with('µ') {
                i += 'µ'.len_utf8();
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
            }
            out.push(Token { tok: Tok::Num(text[at..i].to_owned()), at });
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.' || b[i] == b':') {
                i += 1;
            }
            out.push(Token { tok: Tok::Ident(text[at..i].to_owned()), at });
        } else if text[i..].starts_with("--") && b.get(i + 2).is_some_and(u8::is_ascii_alphabetic) {
            i += 2;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
                i += 1;
            }
            out.push(Token { tok: Tok::Flag(text[at..i].to_owned()), at });
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push(Token { tok: Tok::Op(op), at });
            i += op.len();
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            return Err((format!("unexpected character `{ch}`"), at));
        }
    }
    Ok(out)
}

/// The string whose quote is at `i`, unescaped, and the offset after it.
fn string(text: &str, i: usize) -> Result<(String, usize), (String, usize)> {
    let quote = text[i..].chars().next().unwrap_or('"');
    let mut out = String::new();
    let mut chars = text[i + 1..].char_indices();
    while let Some((j, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, i + 1 + j + 1)),
            '\\' if quote == '"' => match chars.next() {
                Some((_, e)) => out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                }),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err((format!("unterminated string (no closing {quote})"), i))
}
