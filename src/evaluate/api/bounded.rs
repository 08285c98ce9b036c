//! Rhai's functions whose single call can make far more than it was given, replaced by
//! ones that know the size of their result before they build it.
//!
//! Rhai checks a string's size after the function that made it returns, which is too late
//! for `s.replace("x", s)` on a 1 MiB string (a terabyte), and its size limits look at one
//! value at a time, so a map of 20,000 entries sharing one 1 MiB string passes them and
//! then prints as 20 GB. Printing is the hard case: Rhai calls `to_string` and `to_debug`
//! for `print`, `debug`, `` `${x}` `` and `"" + x`, and when they fail it falls back to
//! Rust's formatting of the whole value, the very thing to avoid. So the printers here
//! never fail: past the limit they return a stub, empty the value, and ask the sandbox to
//! stop the script at its next operation ([`Stop`](crate::evaluate::sandbox::Stop)), with
//! the reason.
//!
//! Functions registered on the engine are found before the packages' of the same
//! signature, so these replace Rhai's wherever a script or Rhai itself calls them.

use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, NativeCallContext, Position};

use super::Api;

/// Deepest nesting printed; deeper values are refused like over-long ones.
const MAX_DEPTH: usize = 64;

pub fn register(engine: &mut Engine, api: &Api) {
    for name in ["print", "to_string", "debug", "to_debug"] {
        let a = api.clone();
        engine.register_fn(name, move |ctx: NativeCallContext, array: &mut Array| {
            print_or_stop(&a, &ctx, "[...]", array, |p, v| p.array(v, 0), Array::clear)
        });
        let a = api.clone();
        engine.register_fn(name, move |ctx: NativeCallContext, map: &mut Map| {
            print_or_stop(&a, &ctx, "#{...}", map, |p, v| p.map(v, 0), Map::clear)
        });
    }

    let a = api.clone();
    engine.register_fn("to_json", move |map: &mut Map| -> Result<String, Box<EvalAltResult>> {
        let tree = crate::evaluate::value::to_tree_within(&Dynamic::from_map(map.clone()), a.max_string_size)
            .map_err(|e| -> Box<EvalAltResult> { format!("cannot write this map as JSON: {e}").into() })?;
        let text = serde_json::to_string(&tree).map_err(|e| -> Box<EvalAltResult> { e.to_string().into() })?;
        if text.len() > a.max_string_size {
            return Err(too_long());
        }
        Ok(text)
    });

    let limit = api.max_string_size;
    engine.register_fn("replace", move |s: &mut ImmutableString, find: &str, with: &str| replace(s, find, with, limit));
    engine.register_fn("replace", move |s: &mut ImmutableString, find: &str, with: char| {
        replace(s, find, &with.to_string(), limit)
    });
    engine.register_fn("replace", move |s: &mut ImmutableString, find: char, with: &str| {
        replace(s, &find.to_string(), with, limit)
    });
    engine.register_fn("replace", move |s: &mut ImmutableString, find: char, with: char| {
        replace(s, &find.to_string(), &with.to_string(), limit)
    });
}

/// Prints `value` with `print`, or, when it is refused, empties it (`clear`) and returns
/// `stub`; see [`Printer::finish`].
fn print_or_stop<T>(
    api: &Api,
    ctx: &NativeCallContext,
    stub: &str,
    value: &mut T,
    print: fn(&mut Printer, &T),
    clear: fn(&mut T),
) -> ImmutableString {
    let mut p = Printer::new(ctx, api.max_string_size);
    print(&mut p, value);
    let (text, refused) = p.finish(api, ctx, stub);
    if refused {
        clear(value);
    }
    text
}

fn too_long() -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge("Length of string".to_owned(), Position::NONE).into()
}

/// `str::replace` in place, as Rhai's `replace` does, refused before it starts when the
/// result would be longer than `limit`.
fn replace(s: &mut ImmutableString, find: &str, with: &str, limit: usize) -> Result<(), Box<EvalAltResult>> {
    if s.is_empty() {
        return Ok(());
    }
    // An empty pattern matches before every character and at the end.
    let matches = if find.is_empty() { s.chars().count() + 1 } else { s.matches(find).count() };
    let grows = with.len().saturating_sub(find.len());
    let result = s.len().saturating_add(matches.saturating_mul(grows));
    if result > limit {
        return Err(too_long());
    }
    *s = s.replace(find, with).into();
    Ok(())
}

/// Formats arrays and maps as Rhai does (`[1, "a"]`, `#{"k": 1}`), leaving each other value
/// to its `to_debug`, and stops once the text is longer than `limit`.
struct Printer<'c, 'a> {
    ctx: &'c NativeCallContext<'a>,
    out: String,
    limit: usize,
    /// Why the text was cut, once it was.
    refused: Option<String>,
}

impl<'c, 'a> Printer<'c, 'a> {
    fn new(ctx: &'c NativeCallContext<'a>, limit: usize) -> Self {
        Printer { ctx, out: String::new(), limit, refused: None }
    }

    fn push(&mut self, text: &str) -> bool {
        if self.refused.is_some() {
            return false;
        }
        if self.out.len().saturating_add(text.len()) > self.limit {
            self.refused = Some(format!(
                "printing this value would make a string longer than {} bytes, the longest a script may make",
                self.limit
            ));
            return false;
        }
        self.out.push_str(text);
        true
    }

    fn deeper(&mut self, depth: usize) -> bool {
        if depth >= MAX_DEPTH && self.refused.is_none() {
            self.refused = Some(format!("this value is nested more than {MAX_DEPTH} levels deep and cannot be printed"));
        }
        self.refused.is_none()
    }

    fn array(&mut self, array: &Array, depth: usize) {
        if !self.deeper(depth) || !self.push("[") {
            return;
        }
        for (i, item) in array.iter().enumerate() {
            if (i > 0 && !self.push(", ")) || !self.value(item, depth + 1) {
                return;
            }
        }
        self.push("]");
    }

    fn map(&mut self, map: &Map, depth: usize) {
        if !self.deeper(depth) || !self.push("#{") {
            return;
        }
        for (i, (key, item)) in map.iter().enumerate() {
            if (i > 0 && !self.push(", ")) || !self.push(&format!("{:?}: ", key.as_str())) || !self.value(item, depth + 1) {
                return;
            }
        }
        self.push("}");
    }

    fn value(&mut self, item: &Dynamic, depth: usize) -> bool {
        if item.is_array() {
            match item.read_lock::<Array>() {
                Some(inner) => self.array(&inner, depth),
                None => return self.push("[...]"),
            }
        } else if item.is_map() {
            match item.read_lock::<Map>() {
                Some(inner) => self.map(&inner, depth),
                None => return self.push("#{...}"),
            }
        } else {
            let mut copy = item.clone();
            let text = self
                .ctx
                .call_native_fn_raw("to_debug", true, &mut [&mut copy])
                .ok()
                .and_then(|t| t.into_immutable_string().ok())
                .map(|t| t.to_string())
                .unwrap_or_else(|| item.type_name().to_owned());
            self.push(&text);
        }
        self.refused.is_none()
    }

    /// The text, or `stub` with a stop requested when it was refused (and whether it was).
    ///
    /// A refused value must also be emptied by the caller: Rhai checks the size of the value
    /// printed after the printer returns, and on failure formats all of it by other means.
    /// The script stops at its next operation, so nothing sees the emptied value.
    fn finish(self, api: &Api, ctx: &NativeCallContext, stub: &str) -> (ImmutableString, bool) {
        match self.refused {
            None => (self.out.into(), false),
            Some(why) => {
                let place = api.place(ctx);
                api.stop.request(api.diagnostic(&place, why).help("print a part of it, such as its `len()` or a few keys"));
                (stub.into(), true)
            }
        }
    }
}
