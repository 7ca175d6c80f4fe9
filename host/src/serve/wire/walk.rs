//! Finding the texts of a typed body, as `&mut String` handles with the
//! path an auditor reads (`messages[2].tool_calls[0].function.arguments`),
//! so a redaction is written back into the field it came from.
//!
//! The typed models ([`super::chat`], [`super::completions`]) name the
//! fields the format defines; everything else sits in a flattened `extra`
//! map, kept verbatim. A field of a shape the format does not allow is
//! kept as it came too ([`Loose::Other`]), so deserialising never fails
//! on a JSON object and the caller decides: refuse it with a 400 naming
//! the field, or walk it like any JSON.
//!
//! Order: the texts of a typed struct are found in key order, named fields
//! and `extra` entries merged ([`entries`]), the order `serde_json::Map`
//! keeps. That is the order the walk over a `serde_json::Value` had, so
//! the rails see the same messages in the same order as before.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// One text of a body: where it sits, and the string itself.
#[derive(Debug)]
pub struct Found<'a> {
    /// The readable path, recorded with the text.
    pub field: String,
    /// The text, for reading and for writing a redaction back.
    pub text: &'a mut String,
}

/// Keys under which nothing is text (ids, types, encoded media).
pub type Skip<'s> = &'s dyn Fn(&str) -> bool;

/// Keys of a settings object (an object under a key that holds no text:
/// `stream_options`, `cache_control`, `thinking`, `reasoning`, an image's
/// `source`, …) whose values hold no text either: switches, enums, ids,
/// sizes and encoded media. Any other key of a settings object is one the
/// format does not define there, and its strings are walked (or, with
/// `[payload] unknown-fields = "refuse"`, refused where a request's known
/// objects are read).
pub fn setting(k: &str) -> bool {
    matches!(
        k,
        "type"
            | "id"
            | "mode"
            | "ttl"
            | "effort"
            | "generate_summary"
            | "summary"
            | "context"
            | "display"
            | "budget_tokens"
            | "skill_id"
            | "version"
            | "include_usage"
            | "include_obfuscation"
            | "enabled"
            | "oversized_image"
            | "url"
            | "detail"
            | "data"
            | "format"
            | "media_type"
            | "file_data"
            | "file_id"
            | "file_url"
            | "filename"
    )
}

/// A part of a body whose texts can be found.
pub trait Walk {
    /// Every text under `self` (at `field`) into `out`, except under keys
    /// `skip` names.
    fn walk<'a>(&'a mut self, field: &str, skip: Skip, out: &mut Vec<Found<'a>>);

    /// The texts of `self` under a key that holds no text: none in a
    /// string (or an array of strings), but an object there is a settings
    /// object, walked with [`setting`], so a key the format does not
    /// define in it is not forwarded unscanned.
    fn walk_settings<'a>(&'a mut self, _field: &str, _out: &mut Vec<Found<'a>>) {}
}

impl Walk for String {
    fn walk<'a>(&'a mut self, field: &str, _: Skip, out: &mut Vec<Found<'a>>) {
        out.push(Found {
            field: field.to_string(),
            text: self,
        });
    }
}

/// A field the format does not define, or of a shape it does not allow:
/// every string in it.
impl Walk for Value {
    fn walk<'a>(&'a mut self, field: &str, skip: Skip, out: &mut Vec<Found<'a>>) {
        match self {
            Value::String(s) => s.walk(field, skip, out),
            Value::Array(items) => items.walk(field, skip, out),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if skip(k) {
                        v.walk_settings(&join(field, k), out);
                    } else {
                        v.walk(&join(field, k), skip, out);
                    }
                }
            }
            _ => {}
        }
    }

    fn walk_settings<'a>(&'a mut self, field: &str, out: &mut Vec<Found<'a>>) {
        match self {
            Value::Array(items) => items.walk_settings(field, out),
            Value::Object(_) => self.walk(field, &setting, out),
            _ => {}
        }
    }
}

impl<T: Walk> Walk for Vec<T> {
    fn walk<'a>(&'a mut self, field: &str, skip: Skip, out: &mut Vec<Found<'a>>) {
        for (i, item) in self.iter_mut().enumerate() {
            item.walk(&format!("{field}[{i}]"), skip, out);
        }
    }

    fn walk_settings<'a>(&'a mut self, field: &str, out: &mut Vec<Found<'a>>) {
        for (i, item) in self.iter_mut().enumerate() {
            item.walk_settings(&format!("{field}[{i}]"), out);
        }
    }
}

impl<T: Walk> Walk for Option<T> {
    fn walk<'a>(&'a mut self, field: &str, skip: Skip, out: &mut Vec<Found<'a>>) {
        if let Some(v) = self {
            v.walk(field, skip, out);
        }
    }

    fn walk_settings<'a>(&'a mut self, field: &str, out: &mut Vec<Found<'a>>) {
        if let Some(v) = self {
            v.walk_settings(field, out);
        }
    }
}

/// `field.key`, or `key` at the top.
pub fn join(field: &str, key: &str) -> String {
    if field.is_empty() {
        key.to_string()
    } else {
        format!("{field}.{key}")
    }
}

/// A value of the shape the format defines, or whatever came instead,
/// kept as it came.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Loose<T> {
    /// The format's shape.
    Typed(T),
    /// Anything else.
    Other(Value),
}

impl<T: Walk> Walk for Loose<T> {
    fn walk<'a>(&'a mut self, field: &str, skip: Skip, out: &mut Vec<Found<'a>>) {
        match self {
            Loose::Typed(t) => t.walk(field, skip, out),
            Loose::Other(v) => v.walk(field, skip, out),
        }
    }

    fn walk_settings<'a>(&'a mut self, field: &str, out: &mut Vec<Found<'a>>) {
        match self {
            Loose::Typed(t) => t.walk_settings(field, out),
            Loose::Other(v) => v.walk_settings(field, out),
        }
    }
}

/// For `Option` fields: a field given as `null` is `Some` (of a type that
/// reads `null`), not `None`, so it is written out again as `null` rather
/// than dropped. Absent fields are `None` through `#[serde(default)]`.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The entries of a typed struct, in key order: its named fields that are
/// present and every `extra` entry.
pub fn entries<'a>(
    named: Vec<(&'static str, Option<&'a mut dyn Walk>)>,
    extra: &'a mut Map<String, Value>,
) -> Vec<(&'a str, &'a mut dyn Walk)> {
    let mut out: Vec<(&'a str, &'a mut dyn Walk)> = named
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
    out.extend(
        extra
            .iter_mut()
            .map(|(k, v)| (k.as_str(), v as &'a mut dyn Walk)),
    );
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// Walks every entry of a typed struct (see [`entries`]); an entry `skip`
/// names only for a settings object under it ([`Walk::walk_settings`]).
pub fn walk_entries<'a>(
    named: Vec<(&'static str, Option<&'a mut dyn Walk>)>,
    extra: &'a mut Map<String, Value>,
    field: &str,
    skip: Skip,
    out: &mut Vec<Found<'a>>,
) {
    for (k, v) in entries(named, extra) {
        if skip(k) {
            v.walk_settings(&join(field, k), out);
        } else {
            v.walk(&join(field, k), skip, out);
        }
    }
}

/// `Some(&mut dyn Walk)` for a present field.
pub fn named<T: Walk>(v: &mut Option<T>) -> Option<&mut dyn Walk> {
    v.as_mut().map(|v| v as &mut dyn Walk)
}

/// Declares a typed model of a wire object: every named field optional
/// (absent stays absent, `null` stays `null`: [`present`]) and every other
/// field in `extra`, verbatim. With `impl Walk;` at the end it also walks
/// the named fields and `extra` in key order ([`walk_entries`]).
macro_rules! wire_model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident: $ty:ty,
            )*
        }
        $(#[doc = $extra_doc:literal])*
        extra;
        impl Walk;
    ) => {
        wire_model! {
            $(#[$meta])*
            pub struct $name {
                $(
                    $(#[doc = $doc])*
                    pub $field: $ty,
                )*
            }
            $(#[doc = $extra_doc])*
            extra;
        }

        impl $crate::serve::wire::walk::Walk for $name {
            fn walk<'a>(
                &'a mut self,
                field: &str,
                skip: $crate::serve::wire::walk::Skip,
                out: &mut Vec<$crate::serve::wire::walk::Found<'a>>,
            ) {
                let named = vec![
                    $((stringify!($field), $crate::serve::wire::walk::named(&mut self.$field)),)*
                ];
                $crate::serve::wire::walk::walk_entries(named, &mut self.extra, field, skip, out);
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident: $ty:ty,
            )*
        }
        $(#[doc = $extra_doc:literal])*
        extra;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[serde(
                    default,
                    deserialize_with = "crate::serve::wire::walk::present",
                    skip_serializing_if = "Option::is_none"
                )]
                pub $field: $ty,
            )*
            $(#[doc = $extra_doc])*
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }
    };
}
pub(crate) use wire_model;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_walk_finds_every_string_but_skipped_keys_with_its_path() {
        let mut v = json!({"a": ["x", {"id": "no", "b": "y"}], "n": 1});
        let mut out = Vec::new();
        v.walk("top", &|k| k == "id", &mut out);
        let got: Vec<(String, String)> =
            out.into_iter().map(|f| (f.field, f.text.clone())).collect();
        assert_eq!(
            got,
            [
                ("top.a[0]".to_string(), "x".to_string()),
                ("top.a[1].b".to_string(), "y".to_string())
            ]
        );
    }

    #[test]
    fn a_null_field_stays_null_and_an_absent_one_absent() {
        #[derive(Deserialize, Serialize)]
        struct S {
            #[serde(
                default,
                deserialize_with = "present",
                skip_serializing_if = "Option::is_none"
            )]
            a: Option<Loose<String>>,
            #[serde(flatten)]
            extra: Map<String, Value>,
        }
        for body in [json!({"a": null}), json!({}), json!({"a": 3, "b": null})] {
            let s: S = serde_json::from_value(body.clone()).unwrap();
            assert_eq!(serde_json::to_value(&s).unwrap(), body);
        }
    }
}
