//! The component layer of a first-party detector, written once.

/// Expands to the `streaming-pii-detector` component of a detector core:
/// `detect` over each message for whole texts, and a streaming scanner
/// built on [`StreamScan`](crate::stream::StreamScan) for streamed answers.
///
/// Used from a crate's `component` module (compiled for `wasm32` only),
/// with `wit-bindgen` as a dependency and the WIT package at `../../wit`:
///
/// ```ignore
/// railyard_plugin_sdk::detector_component! {
///     name: "pii",
///     settings: crate::Settings,      // has `from_config(&Config) -> Result<Self, String>`
///     detect: crate::detect,          // fn(&str, &Settings, &mut Vec<Detection>)
///     reach: crate::STREAM_REACH,     // stream::Reach
///     hold: |_text: &str| None,       // Fn(&str) -> Option<usize>
/// }
/// ```
#[macro_export]
macro_rules! detector_component {
    (
        name: $name:literal,
        settings: $settings:ty,
        detect: $detect:path,
        reach: $reach:expr,
        hold: $hold:expr $(,)?
    ) => {
        wit_bindgen::generate!({ path: "../../wit", world: "streaming-pii-detector" });

        use exports::railyard::plugin::scanning::{self, Progress};
        use railyard::plugin::host::config;
        use railyard::plugin::types::{Action, Span, Stage, Verdict};
        use $crate::Detection;
        use $crate::stream::StreamScan;

        struct Component;

        fn settings() -> Result<$settings, String> {
            $crate::Config::read(config(), <$settings>::from_config)
        }

        fn finding(message: usize, d: Detection) -> Finding {
            Finding {
                rule_id: d.rule_id.into(),
                category: d.category.into(),
                score: d.score,
                span: Some(Span {
                    message: message as u32,
                    start: d.start as u32,
                    end: d.end as u32,
                }),
                replacement: None,
            }
        }

        impl Guest for Component {
            fn info() -> PluginInfo {
                PluginInfo {
                    name: $name.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    stages: vec![Stage::Request, Stage::Response, Stage::StreamChunk],
                }
            }

            fn detect(payload: Payload) -> Result<Vec<Finding>, String> {
                let settings = settings()?;
                let mut findings = Vec::new();
                let mut found = Vec::new();
                for (index, message) in payload.messages.iter().enumerate() {
                    found.clear();
                    $detect(&message.content, &settings, &mut found);
                    findings.extend(found.drain(..).map(|d| finding(index, d)));
                }
                Ok(findings)
            }
        }

        /// One streamed answer.
        struct Scanner {
            settings: $settings,
            scan: std::cell::RefCell<StreamScan>,
        }

        impl scanning::Guest for Component {
            type Scanner = Scanner;

            fn start(_payload: Payload) -> Result<scanning::Scanner, String> {
                Ok(scanning::Scanner::new(Scanner {
                    settings: settings()?,
                    scan: std::cell::RefCell::new(StreamScan::new($reach)),
                }))
            }
        }

        impl scanning::GuestScanner for Scanner {
            fn push(&self, chunk: String) -> Result<Progress, String> {
                let detect = |t: &str, out: &mut Vec<Detection>| $detect(t, &self.settings, out);
                let (found, settled) = self.scan.borrow_mut().push(&chunk, detect, $hold);
                Ok(Progress {
                    findings: found.into_iter().map(|d| finding(0, d)).collect(),
                    action: Action::Allow,
                    reason: String::new(),
                    settled: settled as u32,
                })
            }

            fn finish(&self) -> Result<Verdict, String> {
                let detect = |t: &str, out: &mut Vec<Detection>| $detect(t, &self.settings, out);
                let found = self.scan.borrow_mut().finish(detect);
                Ok(Verdict {
                    // Detectors: the host decides the action from the findings.
                    action: if found.is_empty() {
                        Action::Allow
                    } else {
                        Action::Redact
                    },
                    reason: String::new(),
                    findings: found.into_iter().map(|d| finding(0, d)).collect(),
                })
            }
        }

        export!(Component);
    };
}
