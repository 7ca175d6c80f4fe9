//! (placeholder: tests land with the issue that adds them)
