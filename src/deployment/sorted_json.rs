//! JSON with every object's keys in byte order, written straight from `Serialize`.
//!
//! What `serde_json::to_value` followed by `to_vec`/`to_vec_pretty` writes (its `Value`
//! keeps objects in a `BTreeMap`), byte for byte, without building that tree: for a
//! thousand containers the tree's keys, nodes and copied strings were most of a build's
//! deployment step (docs/BENCHMARKS.md). Each object's members are written to a scratch
//! buffer in the order serde gives them, then copied out sorted; scalars and string
//! escaping are serde_json's own. The tests hold it to the `Value` path on both seed stacks.

use serde::ser::{self, Serialize};

/// Why a value cannot be written: what `serde_json::to_value` would refuse too.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// `value` as compact JSON, or indented by two spaces as `to_string_pretty` does.
pub fn write(value: &impl Serialize, pretty: bool) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    value.serialize(Writer { out: &mut out, depth: pretty.then_some(0) })?;
    Ok(out)
}

/// Writes one value at `depth` levels of indentation (`None`: compact).
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    depth: Option<usize>,
}

impl<'a> Writer<'a> {
    /// A scalar as serde_json writes it.
    fn scalar(self, v: &impl Serialize) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.out, v).map_err(|e| Error(e.to_string()))
    }

    fn seq(self) -> Seq<'a> {
        self.out.push(b'[');
        Seq { out: self.out, depth: self.depth, empty: true, variant: None }
    }

    fn object(self) -> Object<'a> {
        Object { out: self.out, depth: self.depth, scratch: Vec::new(), members: Vec::new(), key: None, variant: None }
    }

    /// `{"variant": ` before a variant's content, closed by [`close_variant`].
    fn open_variant(out: &mut Vec<u8>, depth: Option<usize>, variant: &str) -> Result<(), Error> {
        out.push(b'{');
        newline(out, depth.map(|d| d + 1));
        serde_json::to_writer(&mut *out, variant).map_err(|e| Error(e.to_string()))?;
        out.extend_from_slice(if depth.is_some() { b": " } else { b":" });
        Ok(())
    }
}

fn close_variant(out: &mut Vec<u8>, depth: Option<usize>) {
    newline(out, depth);
    out.push(b'}');
}

/// A line break and the indentation of `depth`, when pretty.
fn newline(out: &mut Vec<u8>, depth: Option<usize>) {
    if let Some(d) = depth {
        out.push(b'\n');
        out.resize(out.len() + 2 * d, b' ');
    }
}

pub struct Seq<'a> {
    out: &'a mut Vec<u8>,
    depth: Option<usize>,
    empty: bool,
    /// The depth of the `{"variant": ...}` around it, closed with it.
    variant: Option<Option<usize>>,
}

impl Seq<'_> {
    fn element(&mut self, v: &(impl Serialize + ?Sized)) -> Result<(), Error> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        let inner = self.depth.map(|d| d + 1);
        newline(self.out, inner);
        v.serialize(Writer { out: self.out, depth: inner })
    }

    fn close(self) {
        if !self.empty {
            newline(self.out, self.depth);
        }
        self.out.push(b']');
        if let Some(depth) = self.variant {
            close_variant(self.out, depth);
        }
    }
}

/// An object's members, written to `scratch` as they come and sorted when it closes.
pub struct Object<'a> {
    out: &'a mut Vec<u8>,
    depth: Option<usize>,
    scratch: Vec<u8>,
    /// Each member's key and where its value lies in `scratch`.
    members: Vec<(String, std::ops::Range<usize>)>,
    /// A map's key, between `serialize_key` and `serialize_value`.
    key: Option<String>,
    /// As for [`Seq::variant`].
    variant: Option<Option<usize>>,
}

impl Object<'_> {
    fn member(&mut self, key: String, v: &(impl Serialize + ?Sized)) -> Result<(), Error> {
        let start = self.scratch.len();
        v.serialize(Writer { out: &mut self.scratch, depth: self.depth.map(|d| d + 1) })?;
        self.members.push((key, start..self.scratch.len()));
        Ok(())
    }

    fn close(mut self) {
        // Stable, so of a key written twice the last comes last and is the one kept, as a
        // `BTreeMap` insert keeps it.
        self.members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<&(String, std::ops::Range<usize>)> = Vec::with_capacity(self.members.len());
        for m in &self.members {
            match kept.last_mut() {
                Some(last) if last.0 == m.0 => *last = m,
                _ => kept.push(m),
            }
        }
        self.out.push(b'{');
        let inner = self.depth.map(|d| d + 1);
        for (i, (key, range)) in kept.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            newline(self.out, inner);
            // A string always writes.
            let _ = serde_json::to_writer(&mut *self.out, key);
            self.out.extend_from_slice(if self.depth.is_some() { b": " } else { b":" });
            self.out.extend_from_slice(&self.scratch[range.clone()]);
        }
        if !kept.is_empty() {
            newline(self.out, self.depth);
        }
        self.out.push(b'}');
        if let Some(depth) = self.variant {
            close_variant(self.out, depth);
        }
    }
}

/// The `serialize_*` methods of plain values: each writes the value (`()`: as serde_json
/// does) or gives its text (`String`: a map key).
macro_rules! scalars {
    (() => $($method:ident: $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<(), Error> {
            self.scalar(&v)
        }
    )*};
    (String => $($method:ident: $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<String, Error> {
            Ok(v.to_string())
        }
    )*};
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    scalars!(() => serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // As `to_value` does: through f64, non-finite as null.
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut seq = self.seq();
        for b in v {
            seq.element(b)?;
        }
        seq.close();
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, variant: &'static str, v: &T) -> Result<(), Error> {
        Writer::open_variant(self.out, self.depth, variant)?;
        v.serialize(Writer { out: &mut *self.out, depth: self.depth.map(|d| d + 1) })?;
        close_variant(self.out, self.depth);
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple(self, _: usize) -> Result<Seq<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Seq<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        let depth = self.depth;
        Writer::open_variant(self.out, depth, variant)?;
        Ok(Seq { variant: Some(depth), ..Writer { out: self.out, depth: depth.map(|d| d + 1) }.seq() })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(self.object())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Object<'a>, Error> {
        Ok(self.object())
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Error> {
        let depth = self.depth;
        Writer::open_variant(self.out, depth, variant)?;
        Ok(Object { variant: Some(depth), ..Writer { out: self.out, depth: depth.map(|d| d + 1) }.object() })
    }
}

/// serde's four kinds of sequence, which differ only in the name of one method.
macro_rules! sequence {
    ($($kind:ident :: $method:ident),*) => {$(
        impl ser::$kind for Seq<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.element(v)
            }
            fn end(self) -> Result<(), Error> {
                self.close();
                Ok(())
            }
        }
    )*};
}

sequence!(SerializeSeq::serialize_element, SerializeTuple::serialize_element, SerializeTupleStruct::serialize_field, SerializeTupleVariant::serialize_field);

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeyWriter)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| Error("a map value without its key".to_owned()))?;
        self.member(key, v)
    }
    fn end(self) -> Result<(), Error> {
        self.close();
        Ok(())
    }
}

/// A struct's fields and a struct variant's, alike.
macro_rules! fields {
    ($($kind:ident),*) => {$(
        impl ser::$kind for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
                self.member(key.to_owned(), v)
            }
            fn end(self) -> Result<(), Error> {
                self.close();
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

/// A map key as `to_value` makes one: a string, or a number, bool or char as its text.
struct KeyWriter;

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    scalars!(String => serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    fn serialize_f32(self, _: f32) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_f64(self, _: f64) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<String, Error> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<String, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

fn key_must_be_a_string() -> Error {
    Error("key must be a string".to_owned())
}

#[cfg(test)]
mod tests;
