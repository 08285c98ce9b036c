//! Held to what it replaces: `serde_json::to_value` (objects in a `BTreeMap`), then
//! `to_vec` or `to_vec_pretty`.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Serialize;

use super::write;

/// The `Value` path, byte for byte what builds held before.
fn through_value(v: &impl Serialize, pretty: bool) -> Vec<u8> {
    let value = serde_json::to_value(v).unwrap();
    if pretty { serde_json::to_vec_pretty(&value).unwrap() } else { serde_json::to_vec(&value).unwrap() }
}

fn same(v: &impl Serialize) {
    for pretty in [false, true] {
        let ours = write(v, pretty).unwrap();
        let theirs = through_value(v, pretty);
        assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap(), "pretty: {pretty}");
    }
}

#[derive(Serialize)]
enum Shape {
    Unit,
    Newtype(u8),
    Tuple(i32, String),
    Struct { zeta: bool, alpha: Option<f64> },
    #[serde(rename = "renamed")]
    Empty {},
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Tagged {
    Bind { target: String, source: String },
    Configs { target: String },
}

/// Fields declared out of order, some skipped, some flattened in.
#[derive(Serialize)]
struct Record {
    zulu: Vec<Shape>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<u8>,
    mike: Tagged,
    #[serde(flatten)]
    extra: BTreeMap<String, u32>,
    alpha: (),
    bytes: serde_bytes_like::Bytes,
    nested: BTreeMap<u16, Vec<Vec<u8>>>,
}

/// `serialize_bytes` without a crate for it.
mod serde_bytes_like {
    pub struct Bytes(pub Vec<u8>);
    impl serde::Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
}

#[test]
fn every_kind_of_value_writes_as_the_value_path_does() {
    same(&Record {
        zulu: vec![
            Shape::Unit,
            Shape::Newtype(7),
            Shape::Tuple(-3, "a \"quoted\"\n\u{1}é line".into()),
            Shape::Struct { zeta: true, alpha: Some(1.5) },
            Shape::Struct { zeta: false, alpha: Some(f64::NAN) },
            Shape::Empty {},
        ],
        missing: None,
        mike: Tagged::Bind { target: "/b".into(), source: "/a".into() },
        extra: BTreeMap::from([("aaa".into(), 1), ("zzz".into(), 2)]),
        alpha: (),
        bytes: serde_bytes_like::Bytes(vec![0, 255]),
        nested: BTreeMap::from([(10, vec![vec![], vec![1, 2]]), (9, vec![])]),
    });
    same(&Tagged::Configs { target: "/etc".into() });
    same(&Vec::<u8>::new());
    same(&BTreeMap::<String, u8>::new());
    same(&(1u64 << 63, i64::MIN, 0.1f32, 'x', u128::from(u64::MAX)));
}

/// A map whose entries come in the order given, as a struct's fields or a `HashMap` do.
struct Unsorted(Vec<(String, Node)>);

#[derive(Clone, Debug)]
enum Node {
    Int(i64),
    Text(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Int(i) => s.serialize_i64(*i),
            Node::Text(t) => s.serialize_str(t),
            Node::List(items) => s.collect_seq(items),
            Node::Map(entries) => Unsorted(entries.clone()).serialize(s),
        }
    }
}

impl Serialize for Unsorted {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![any::<i64>().prop_map(Node::Int), ".{0,6}".prop_map(Node::Text)];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Node::List),
            // Few key letters, so keys repeat: the last of a key is the one kept.
            prop::collection::vec(("[a-c\u{e9}]{0,2}", inner), 0..6).prop_map(Node::Map),
        ]
    })
}

proptest! {
    #[test]
    fn any_tree_writes_as_the_value_path_does(tree in node()) {
        for pretty in [false, true] {
            prop_assert_eq!(write(&tree, pretty).unwrap(), through_value(&tree, pretty));
        }
    }
}

#[test]
fn a_key_that_is_no_string_is_refused_as_to_value_refuses_it() {
    let map = BTreeMap::from([(vec![1u8], 1u8)]);
    assert!(serde_json::to_value(&map).is_err());
    assert_eq!(write(&map, false).unwrap_err().to_string(), "key must be a string");
}
