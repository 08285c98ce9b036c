//! Where a query that does not parse stops reading. The crate's grammar errors carry no
//! position, so this asks the parser itself: the longest prefix that some short completion
//! (a closing quote and brackets, an operand, a duration, a label value...) turns into a
//! valid query. Everything before that point is the start of a valid query; the error is
//! at or after it, and for an LR parser (which stops at the first token that cannot
//! continue) at it whenever the completions below cover the missing part.

/// Stand-ins for what may be missing after the prefix, before its brackets are closed.
const MIDDLES: &[&str] = &[
    "", " x", "\"\"", "=\"\"", "5m", " 5m", "5m:", " 1", "x", "x[5m]", "1, x", ", x", ", \"\"", ", \"\", \"\"", ", \"\", \"\", \"\"", ", \"\", \"\", \"\", \"\"",
];

/// What may be missing after the brackets are closed: the argument of `sum by (job)`.
const TAILS: &[&str] = &["", " (x)"];

/// Queries up to this long are searched cut by cut from the end; longer ones by bisection,
/// which also ends on a prefix proven to read (so still before or at the error) but may
/// stop short of the last one.
const LINEAR: usize = 256;

/// The byte offset in `text` at which it stops reading as PromQL.
pub fn offset(text: &str) -> usize {
    let reads = |cut: usize| text.is_char_boundary(cut) && completes(&text[..cut]);
    if text.len() > LINEAR {
        if reads(text.len()) {
            return text.len();
        }
        let (mut lo, mut hi) = (0, text.len());
        while hi - lo > 1 {
            let mut mid = lo + (hi - lo) / 2;
            while !text.is_char_boundary(mid) {
                mid -= 1;
            }
            if mid == lo {
                break;
            }
            if reads(mid) { lo = mid } else { hi = mid }
        }
        return skip_spaces(text, lo);
    }
    let mut cut = text.len();
    loop {
        if reads(cut) || cut == 0 {
            return skip_spaces(text, cut);
        }
        cut -= 1;
    }
}

fn skip_spaces(text: &str, at: usize) -> usize {
    at + text[at..].len() - text[at..].trim_start().len()
}

/// Whether some completion makes `prefix` a valid query.
fn completes(prefix: &str) -> bool {
    let Some((quote, open)) = unclosed(prefix) else { return false };
    let closers: String = open.iter().rev().map(|c| match c {
        '(' => ')',
        '{' => '}',
        _ => ']',
    }).collect();
    let quote = quote.map(String::from).unwrap_or_default();
    let mut candidate = String::with_capacity(prefix.len() + 48);
    for middle in MIDDLES {
        // A middle is for after the prefix's last word; inside a string only its quote is.
        if !quote.is_empty() && !middle.is_empty() {
            continue;
        }
        for tail in TAILS {
            candidate.clear();
            candidate.push_str(prefix);
            candidate.push_str(&quote);
            candidate.push_str(middle);
            candidate.push_str(&closers);
            candidate.push_str(tail);
            if promql_parser::parser::parse(&candidate).is_ok() {
                return true;
            }
        }
    }
    false
}

/// The open string's quote and the brackets still open at the end of `prefix`; `None`
/// when a bracket closes one it does not match (no completion helps then).
fn unclosed(prefix: &str) -> Option<(Option<char>, Vec<char>)> {
    let mut open = Vec::new();
    let mut quote = None;
    let mut chars = prefix.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), '\\') if q != '`' => {
                chars.next();
            }
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '#') => {
                // A comment runs to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            (None, '(' | '{' | '[') => open.push(c),
            (None, ')' | '}' | ']') => {
                let want = match c {
                    ')' => '(',
                    '}' => '{',
                    _ => '[',
                };
                if open.pop() != Some(want) {
                    return None;
                }
            }
            _ => {}
        }
    }
    Some((quote, open))
}
