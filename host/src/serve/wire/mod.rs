//! Typed models of the OpenAI wire format, at the edge.
//!
//! Each model says which fields carry text the rails must see; what a
//! model does not know is kept aside (`rest`) and either passed on as
//! metadata or dropped, as each model documents.

pub mod answer;
pub mod chat;
pub mod chunk;
pub mod completions;
pub mod unstreamed;
pub mod walk;
