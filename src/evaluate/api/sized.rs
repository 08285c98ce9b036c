//! Rhai's functions that make a value of a length they are told (`pad`) or cut a string
//! into many (`split`, `to_chars`), replaced by ones that refuse before they start when the
//! result would be over the sandbox's size limits.
//!
//! Rhai's own versions check the engine's size limits, which obsbuild leaves unset
//! (`sizes.rs`): without these, `a.pad(1000000000, 0)` would ask for 16 GB in one call,
//! and `split("")` of a long string made by concatenation would make a string per byte.
//! Each behaves as Rhai's does within the limits.

use rhai::{Array, Dynamic, Engine, EvalAltResult, INT, ImmutableString};

use super::Api;
use crate::evaluate::sizes::{ARRAY, STRING, Sizes, too_large};

type Outcome<T> = Result<T, Box<EvalAltResult>>;

/// Deepest an item padded into an array is looked into; deeper ones are refused.
const MAX_DEPTH: usize = 64;

pub fn register(engine: &mut Engine, api: &Api) {
    let sizes = api.sizes;
    engine.register_fn("pad", move |s: &mut ImmutableString, len: INT, with: char| pad(s, len, &with.to_string(), sizes));
    engine.register_fn("pad", move |s: &mut ImmutableString, len: INT, with: &str| pad(s, len, with, sizes));
    engine.register_fn("pad", move |a: &mut Array, len: INT, item: Dynamic| pad_array(a, len, item, sizes));

    // Taken by value, as Rhai's are pure: they may be called on a constant.
    engine.register_fn("to_chars", move |s: ImmutableString| -> Outcome<Array> {
        short_enough(&s, sizes)?;
        Ok(s.chars().map(Into::into).collect())
    });
    engine.register_fn("split", move |s: ImmutableString| -> Outcome<Array> {
        short_enough(&s, sizes)?;
        Ok(if s.is_empty() { vec![s.into()] } else { s.split_whitespace().map(Into::into).collect() })
    });
    for (name, reverse) in [("split", false), ("split_rev", true)] {
        engine.register_fn(name, move |s: ImmutableString, by: &str| pieces(&s, by, None, reverse, sizes));
        engine.register_fn(name, move |s: ImmutableString, by: char| pieces(&s, &by.to_string(), None, reverse, sizes));
        engine.register_fn(name, move |s: ImmutableString, by: &str, n: INT| pieces(&s, by, Some(n), reverse, sizes));
        engine.register_fn(name, move |s: ImmutableString, by: char, n: INT| {
            pieces(&s, &by.to_string(), Some(n), reverse, sizes)
        });
    }
}

/// A string cut into pieces makes a value per piece, up to one per byte: only a string
/// within the limit may be cut, so the pieces stay within what the memory budget can take.
fn short_enough(s: &str, sizes: Sizes) -> Outcome<()> {
    if s.len() > sizes.string { Err(too_large(STRING)) } else { Ok(()) }
}

/// `s` cut at each `by` (at most `segments` pieces, from the end when `reverse`), as Rhai's
/// `split` and `split_rev` do: a string without `by` is one piece, and so is any string
/// asked for one segment or fewer.
fn pieces(s: &str, by: &str, segments: Option<INT>, reverse: bool, sizes: Sizes) -> Outcome<Array> {
    short_enough(s, sizes)?;
    let n = match segments {
        Some(n) if n <= 1 => return Ok(vec![s.into()]),
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => usize::MAX,
    };
    if s.is_empty() || (!by.is_empty() && !s.contains(by)) {
        return Ok(vec![s.into()]);
    }
    Ok(if reverse { s.rsplitn(n, by).map(Into::into).collect() } else { s.splitn(n, by).map(Into::into).collect() })
}

/// `s` padded with `with` to `len` characters, refused when that is longer than the limit.
fn pad(s: &mut ImmutableString, len: INT, with: &str, sizes: Sizes) -> Outcome<()> {
    let Ok(len) = usize::try_from(len) else { return Ok(()) };
    let have = s.chars().count();
    if len <= have || with.is_empty() {
        return Ok(());
    }
    let missing = len - have;
    let per = with.chars().count();
    let rest: usize = with.chars().take(missing % per).map(char::len_utf8).sum();
    let bytes = (missing / per).checked_mul(with.len()).and_then(|b| b.checked_add(rest)).and_then(|b| b.checked_add(s.len()));
    if bytes.is_none_or(|b| b > sizes.string) {
        return Err(too_large(STRING));
    }
    // Built by `repeat` in one piece: a push per copy is slow in a debug build (Rhai's, an
    // optimized dependency, was not), and `file-loop.rhai` pads a million.
    let mut fill = with.repeat(missing / per);
    fill.extend(with.chars().take(missing % per));
    s.make_mut().push_str(&fill);
    Ok(())
}

/// `a` padded with copies of `item` to `len` items, refused when that makes more items than
/// an array may hold, counting what each copy holds (an array or a map is copied whole).
fn pad_array(a: &mut Array, len: INT, item: Dynamic, sizes: Sizes) -> Outcome<()> {
    let Ok(len) = usize::try_from(len) else { return Ok(()) };
    if len <= a.len() {
        return Ok(());
    }
    let each = held(&item, sizes.array, MAX_DEPTH).saturating_add(1);
    if len > sizes.array || (len - a.len()).saturating_mul(each) > sizes.array {
        return Err(too_large(ARRAY));
    }
    a.resize(len, item);
    Ok(())
}

/// The items and entries inside `value`, all levels down, counted up to `cap` (past it,
/// or deeper than `depth` allows, the answer is only "more than `cap`").
fn held(value: &Dynamic, cap: usize, depth: usize) -> usize {
    if depth == 0 {
        return cap.saturating_add(1);
    }
    // The read guards outlive the iterator that borrows from them.
    let array;
    let map;
    let items: Box<dyn Iterator<Item = &Dynamic> + '_>;
    if let Ok(a) = value.as_array_ref() {
        array = a;
        items = Box::new(array.iter());
    } else if let Ok(m) = value.as_map_ref() {
        map = m;
        items = Box::new(map.values());
    } else {
        return 0;
    }
    let mut count = 0usize;
    for item in items {
        count = count.saturating_add(1).saturating_add(held(item, cap, depth - 1));
        if count > cap {
            break;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use rhai::{Array, Dynamic, ImmutableString};

    use super::{Sizes, held, pad, pad_array, pieces};

    const SIZES: Sizes = Sizes { string: 8, array: 4, map: 4 };

    #[test]
    fn pad_stops_before_it_grows_past_the_limit() {
        let mut s = ImmutableString::from("ab");
        pad(&mut s, 8, "xyz", SIZES).unwrap();
        assert_eq!(s.as_str(), "abxyzxyz");
        let mut s = ImmutableString::from("ab");
        assert!(pad(&mut s, 9, "x", SIZES).is_err());
        assert!(pad(&mut s, 1_000_000_000_000, "x", SIZES).is_err());
        assert_eq!(s.as_str(), "ab");
        // Multi-byte padding is counted in bytes.
        assert!(pad(&mut s, 6, "é", SIZES).is_err());
        pad(&mut s, 5, "é", SIZES).unwrap();
        assert_eq!(s.as_str(), "abééé");
    }

    #[test]
    fn an_array_pads_up_to_its_limit_counting_what_each_copy_holds() {
        let mut a = Array::new();
        pad_array(&mut a, 4, Dynamic::UNIT, SIZES).unwrap();
        assert_eq!(a.len(), 4);
        let mut a = Array::new();
        assert!(pad_array(&mut a, 5, Dynamic::UNIT, SIZES).is_err());
        let pair: Array = vec![Dynamic::UNIT, Dynamic::UNIT];
        assert!(pad_array(&mut a, 2, Dynamic::from_array(pair), SIZES).is_err());
        assert_eq!(held(&Dynamic::from_array(vec![Dynamic::from_array(vec![Dynamic::UNIT])]), 10, 64), 2);
    }

    #[test]
    fn split_cuts_as_rhai_does() {
        let strings = |a: Array| a.into_iter().map(|d| d.into_string().unwrap()).collect::<Vec<_>>();
        assert_eq!(strings(pieces("a,b,c", ",", None, false, SIZES).unwrap()), ["a", "b", "c"]);
        assert_eq!(strings(pieces("a,b,c", ",", Some(2), false, SIZES).unwrap()), ["a", "b,c"]);
        assert_eq!(strings(pieces("a,b,c", ",", Some(2), true, SIZES).unwrap()), ["c", "a,b"]);
        assert_eq!(strings(pieces("abc", ";", None, false, SIZES).unwrap()), ["abc"]);
        assert_eq!(strings(pieces("a,b", ",", Some(0), false, SIZES).unwrap()), ["a,b"]);
        assert!(pieces("123456789", "", None, false, SIZES).is_err());
    }
}
