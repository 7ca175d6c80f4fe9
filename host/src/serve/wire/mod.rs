//! Typed models of the OpenAI wire format, at the edge.
//!
//! Each model says which fields carry text the rails must see. The
//! request and unstreamed-answer models ([`chat`], [`completions`],
//! [`answer`]) keep every field they do not name verbatim in a flattened
//! `extra` map, and a field of a shape the format does not allow as it
//! came, so a body re-serialised after redaction differs only in the
//! redacted texts; [`walk`] finds their texts as `&mut String` handles.
//! The stream chunk ([`chunk`]) keeps unknown fields aside (`rest`) and
//! either passes them on as metadata or drops them, as it documents.

pub mod answer;
pub mod chat;
pub mod chunk;
pub mod completions;
pub mod unstreamed;
pub mod walk;
