//! Grafana's template variables stood in for by values that keep a query parseable:
//! `$__rate_interval` in a range is a duration, `$job` inside a string a label value, a
//! variable elsewhere a metric name (or, on a second reading, a number: `topk($n, x)`).
//! The edits are kept so an offset in the substituted text maps back to the query.

/// What a variable outside strings and ranges stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outside {
    Name,
    Number,
}

/// The query with its variables stood in for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Substituted {
    pub text: String,
    /// Whether some variable stood outside strings and ranges.
    pub outside: bool,
    /// (start in the query, its length, start in `text`, length there), in order.
    edits: Vec<(usize, usize, usize, usize)>,
}

impl Substituted {
    /// The offset in the query of `offset` in `text`: inside a stand-in, where its
    /// variable starts.
    #[must_use]
    pub fn original(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for &(from, len, to, new_len) in &self.edits {
            if offset < to {
                break;
            }
            if offset < to + new_len {
                return from;
            }
            shift = (from + len).cast_signed() - (to + new_len).cast_signed();
        }
        offset.saturating_add_signed(shift)
    }
}

/// Inside a string, a variable becomes `$name`, which is a label value and a regular
/// expression that compiles; the review reads a `$` in a matcher as "any value".
pub const IN_STRING: &str = "$";

/// `expr` with every `$name`, `${name}`, `${name:format}` and `[[name]]` stood in for.
#[must_use]
pub fn substitute(expr: &str, outside: Outside) -> Substituted {
    let bytes = expr.as_bytes();
    let mut out = Substituted { text: String::with_capacity(expr.len()), outside: false, edits: Vec::new() };
    let mut quote: Option<u8> = None;
    let mut range = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let var = if c == b'$' || (c == b'[' && quote.is_none() && bytes.get(i + 1) == Some(&b'[')) { variable(expr, i) } else { None };
        if let Some((end, name)) = var {
            let with = if quote.is_some() {
                format!("{IN_STRING}{}", if name.is_empty() { "var" } else { name })
            } else if name.ends_with("_ms") || name.ends_with("_s") || name == "__from" || name == "__to" {
                "1".to_owned()
            } else if range || name.starts_with("__") {
                "5m".to_owned()
            } else {
                out.outside = true;
                match outside {
                    Outside::Name => "x".to_owned(),
                    Outside::Number => "1".to_owned(),
                }
            };
            out.edits.push((i, end - i, out.text.len(), with.len()));
            out.text.push_str(&with);
            i = end;
            continue;
        }
        match (quote, c) {
            (Some(q), b'\\') if q != b'`' => {
                // Keep the escaped character with its backslash.
                let next = expr[i + 1..].chars().next().map_or(0, char::len_utf8);
                out.text.push_str(&expr[i..i + 1 + next]);
                i += 1 + next;
                continue;
            }
            (Some(q), _) if c == q => quote = None,
            (None, b'"' | b'\'' | b'`') => quote = Some(c),
            (None, b'[') => range = true,
            (None, b']') => range = false,
            _ => {}
        }
        let len = expr[i..].chars().next().map_or(1, char::len_utf8);
        out.text.push_str(&expr[i..i + len]);
        i += len;
    }
    out
}

/// The variable starting at byte `i` (`$` or `[[`): where it ends and its name.
fn variable(expr: &str, i: usize) -> Option<(usize, &str)> {
    let rest = &expr[i..];
    let ident = |s: &str| s.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if let Some(inner) = rest.strip_prefix("${") {
        let close = inner.find('}')?;
        let body = &inner[..close];
        let name = &body[..ident(body)];
        return (!name.is_empty()).then_some((i + 2 + close + 1, name));
    }
    if let Some(inner) = rest.strip_prefix("[[") {
        let close = inner.find("]]")?;
        let body = &inner[..close];
        let name = &body[..ident(body)];
        let well_formed = !name.is_empty() && (name.len() == body.len() || body[name.len()..].starts_with(':'));
        return well_formed.then_some((i + 2 + close + 2, name));
    }
    let name = &rest[1..1 + ident(&rest[1..])];
    // `$1` in `label_replace` is a capture group, not a variable: both read the same
    // inside a string, and outside one it is no PromQL either way.
    (!name.is_empty()).then_some((i + 1 + name.len(), name))
}
