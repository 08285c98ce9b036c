//! The sandbox's limits on one string, array or map, checked at a cost that does not grow
//! with the value.
//!
//! Rhai's own limits (`set_max_string_size` and the like) are enforced by measuring the
//! whole value, every item and every entry of every map inside it, after each change to it:
//! each `panels.push(...)` re-read every panel pushed before, so building a fleet's list of
//! panels, targets or rules in a loop took quadratic time, and the entries of all the maps
//! an array held counted as the size of one map (5,000 panels of four fields were "a map"
//! over 20,000 entries). So Rhai is given no size limits, and obsbuild checks them where it
//! costs nothing:
//!
//! - a variable, by its own length, each time the script reads it ([`Sizes::check`], from
//!   the engine's `on_var`): a string, array or map that a loop keeps growing is stopped at
//!   its next use, one step past the limit;
//! - a function whose one call can make far more than it was given (`pad`, `replace`,
//!   `split`, printing), before it starts (`api/bounded.rs`, `api/sized.rs`);
//! - everything the evaluation holds together, values inside values and shared strings
//!   included, by the memory budget before every operation (`budget.rs`).

use rhai::{Dynamic, EvalAltResult, Position};

/// Longest string (bytes), array (items) and map (entries) a script may hold in one value.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub string: usize,
    pub array: usize,
    pub map: usize,
}

impl Sizes {
    /// Refuses `value` when its own length is over its limit. What it holds is not looked
    /// into: that is what makes the check free, and the memory budget counts it.
    pub fn check(&self, value: &Dynamic) -> Result<(), Box<EvalAltResult>> {
        let over = if let Ok(s) = value.as_immutable_string_ref() {
            s.len() > self.string
        } else if let Ok(a) = value.as_array_ref() {
            a.len() > self.array
        } else if let Ok(m) = value.as_map_ref() {
            m.len() > self.map
        } else {
            false
        };
        if over { Err(too_large(kind(value))) } else { Ok(()) }
    }
}

/// The kind of an oversized value, as Rhai words it in its size errors.
fn kind(value: &Dynamic) -> &'static str {
    if value.is_string() {
        STRING
    } else if value.is_array() {
        ARRAY
    } else {
        MAP
    }
}

/// What Rhai calls each kind in its size errors (`errors.rs` words the message).
pub const STRING: &str = "Length of string";
pub const ARRAY: &str = "Size of array";
pub const MAP: &str = "Size of map";

pub fn too_large(what: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge(what.to_owned(), Position::NONE).into()
}

#[cfg(test)]
mod tests {
    use rhai::{Array, Dynamic, Map};

    use super::Sizes;

    const SIZES: Sizes = Sizes { string: 4, array: 2, map: 1 };

    #[test]
    fn each_kind_is_held_to_its_own_length() {
        assert!(SIZES.check(&Dynamic::from("abcd")).is_ok());
        assert!(SIZES.check(&Dynamic::from("abcde")).is_err());
        let two: Array = vec![Dynamic::UNIT, Dynamic::UNIT];
        assert!(SIZES.check(&Dynamic::from_array(two.clone())).is_ok());
        let mut three = two;
        three.push(Dynamic::UNIT);
        assert!(SIZES.check(&Dynamic::from_array(three)).is_err());
        let mut map = Map::new();
        map.insert("a".into(), Dynamic::UNIT);
        assert!(SIZES.check(&Dynamic::from_map(map.clone())).is_ok());
        map.insert("b".into(), Dynamic::UNIT);
        assert!(SIZES.check(&Dynamic::from_map(map)).is_err());
        assert!(SIZES.check(&Dynamic::from(1_000_000_i64)).is_ok());
    }

    #[test]
    fn what_a_value_holds_is_not_counted() {
        // Two arrays of two maps of one entry each: within every limit, as a list of panels
        // is however many fields its panels have.
        let mut one = Map::new();
        one.insert("k".into(), Dynamic::from("abcd"));
        let inner: Array = vec![Dynamic::from_map(one.clone()), Dynamic::from_map(one)];
        let outer: Array = vec![Dynamic::from_array(inner.clone()), Dynamic::from_array(inner)];
        assert!(SIZES.check(&Dynamic::from_array(outer)).is_ok());
    }

    #[test]
    fn a_shared_value_is_checked_through_its_lock() {
        let shared = Dynamic::from("abcdef").into_shared();
        assert!(SIZES.check(&shared).is_err());
    }
}
