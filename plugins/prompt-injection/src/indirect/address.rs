//! Whether a word addresses the model, and how explicitly: a cue before
//! an AI noun, a mention, a vocative, a label, a reading participle.

use super::cues::*;
use super::layout::{dialogue, in_file_name, turn_label};
use crate::scan::{F_AT_BEFORE, F_COLON_BEFORE, F_COMMA_BEFORE, F_GLUED, F_TRAIL_COLON};
use crate::words::{Word, is};
use std::cell::OnceCell;

/// How a word addresses the model.
pub(super) struct Address {
    /// 0.4 (flagged, not blocked) for a cue or a reading participle, 0.3
    /// for a bare vocative.
    pub(super) strength: f32,
    /// The addressee is a machine for sure (an AI word, a mention, hidden
    /// text), not possibly a person's assistant or agent.
    pub(super) machine: bool,
    /// The reader is described in the third person ("AI agents reading
    /// this page", "to any LLM", "AI review summarisers:"): no user
    /// writes to their own assistant that way.
    pub(super) third: bool,
    /// An AI word names the addressee ("AI agent", "KI", "asistente
    /// virtual"), not only a role noun ("bot", "reviewers").
    pub(super) named_ai: bool,
}

/// Whether word `i` addresses the model, and how explicitly.
pub(super) fn address(
    text: &str,
    w: &[Word],
    i: usize,
    hidden: &[(usize, usize)],
    chat: &OnceCell<bool>,
) -> Option<Address> {
    let n = w[i].norm();
    let ai = is(n, &AI);
    let role = is(n, &ROLE);
    if !ai && !role {
        // "To the automated résumé screener: …": a qualifier that makes
        // the addressee a machine, in a label after a cue.
        let sent = w[i].tok.sent;
        let near = |k: usize| w.get(k).filter(|x| x.tok.sent == sent);
        let label = is(n, &QUALIFIER)
            && (1..=2).any(|d| i >= d && near(i - d).is_some_and(|x| is(x.norm(), &CUE)))
            && (1..=3).any(|d| near(i + d).is_some_and(|x| x.tok.flags & F_TRAIL_COLON != 0));
        return label.then_some(Address {
            strength: 0.4,
            machine: true,
            third: false,
            named_ai: true,
        });
    }
    let sent = w[i].tok.sent;
    let near = |k: usize| w.get(k).filter(|x| x.tok.sent == sent);
    let start = w[i].tok.start as usize;
    let hidden = hidden.iter().any(|&(s, e)| s <= start && start < e);
    // "@assistant …", not the domain of "bob@example.com": the `@` follows
    // a space or starts the text.
    let mention = w[i].tok.flags & F_AT_BEFORE != 0
        && text[..start].strip_suffix('@').is_some_and(|b| {
            b.chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric() && c != '.')
        });
    let after = text[w[i].tok.end as usize..].trim_start_matches(' ');
    let colon = w[i].tok.flags & F_TRAIL_COLON != 0 || after.starts_with(':');
    // "the AI team", "AI policy": an AI word that modifies the next noun
    // is not the one addressed, unless that noun is itself the reader:
    // a participle and "this" follow it, and an obligation or a label's
    // colon closes the phrase ("AI services evaluating this proposal
    // must…", "AI system reading these logs:"); "The AI service
    // evaluating this proposal was slow" describes one.
    let reads_this = || {
        (2..=4).any(|d| {
            near(i + d).is_some_and(|x| is(x.norm(), &READING) || x.norm().ends_with(b"ing"))
                && (1..=2).any(|e| {
                    near(i + d + e).is_some_and(|y| is(y.norm(), &THIS))
                        && (e..=e + 3).any(|f| {
                            near(i + d + f).is_some_and(|z| {
                                is(z.norm(), &OBLIGED) || z.tok.flags & F_TRAIL_COLON != 0
                            })
                        })
                })
        })
    };
    if ai
        && !colon
        && !hidden
        && !mention
        && near(i + 1).is_some_and(|x| {
            x.tok.flags & (F_COMMA_BEFORE | F_COLON_BEFORE) == 0
                && !is(x.norm(), &ROLE)
                && !is(x.norm(), &AI)
                && !is(x.norm(), &TOOL)
                && !is(x.norm(), &READING)
                && !is(x.norm(), &HEADED)
                && !is(x.norm(), &LINK)
                // "LLM presenting these slides:" is a participle phrase.
                && !x.norm().ends_with(b"ing")
                // "IA de recrutement, …", "KI der Personalabteilung": the
                // AI word heads a Romance or German noun phrase.
                && !matches!(x.norm(), b"de" | b"di" | b"da" | b"do" | b"du" | b"del" | b"della" | b"der")
                // "Falls du eine KI bist, …", "si eres una IA es…": a verb.
                && !matches!(x.norm(), b"bist" | b"sind" | b"eres" | b"sei" | b"est" | b"es" | b"is" | b"are")
        })
        && !reads_this()
    {
        return None;
    }
    // "Screen-reader note:": a person's assistive tool.
    if n.starts_with(b"reader") && i >= 1 && near(i - 1).is_some_and(|x| x.norm() == b"screen") {
        return None;
    }
    // "my assistant", "mi asistente IA": the user's own; "its chatbot",
    // "our agent": someone's own, described.
    if (1..=2)
        .any(|d| i >= d && near(i - d).is_some_and(|x| is(x.norm(), &MY) || is(x.norm(), &THEIR)))
    {
        return None;
    }
    // "If your AI tool starts doing…", "si tu IA…", "wenn dein
    // KI-Assistent…": the reader's own tool, described to them.
    if (1..=2).any(|d| {
        i > d
            && near(i - d).is_some_and(|x| is(x.norm(), &YOUR))
            && near(i - d - 1).is_some_and(|x| is(x.norm(), &IF))
    }) {
        return None;
    }
    // "If you use an AI note-taker…", "use Copilot or another assistant":
    // the tool used, not spoken to.
    if (1..=3).any(|d| i >= d && near(i - d).is_some_and(|x| is(x.norm(), &USE))) {
        return None;
    }
    // "Agent (AI): I'm sorry…" in an exported support chat: a turn's
    // label, which the role-label and fake-turns rules weigh.
    if turn_label(text, start, w[i].tok.end as usize) && *chat.get_or_init(|| dialogue(text)) {
        return None;
    }
    // `name="robots"`: an attribute's whole value names a crawler, it
    // does not speak to one (`content="Assistant: …"` may).
    if text[..start].ends_with("=\"") && text[w[i].tok.end as usize..].starts_with('"') {
        return None;
    }
    // `"model": "AX3000"`: a "model" key with a one-word value is a field
    // of data (a device's model, an API call's model), not a vocative.
    if (n.starts_with(b"model") || n.starts_with(b"modell"))
        && text[..start].ends_with('"')
        && json_field(&text[w[i].tok.end as usize..])
    {
        return None;
    }
    let prev_ai = (1..=2).any(|d| i >= d && near(i - d).is_some_and(|x| is(x.norm(), &AI)));
    let next_ai = (1..=2).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &AI)));
    // "Note for the executive assistant:", "(for human reviewers)",
    // "assistante de direction": a person's job, when no AI word or
    // mention makes it a machine.
    let human = (1..=2).any(|d| i >= d && near(i - d).is_some_and(|x| is(x.norm(), &HUMAN)))
        || (1..=2).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &HUMAN)))
            && (1..2).all(|d| {
                near(i + d).is_some_and(|x| {
                    is(x.norm(), &HUMAN) || matches!(x.norm(), b"de" | b"di" | b"da" | b"der")
                })
            });
    if role && !ai && !prev_ai && !next_ai && human {
        return None;
    }
    // A role noun needs an AI word beside it ("AI assistant", "assistente
    // IA"), or a qualifier before it ("language model", "autonomous
    // agent").
    let model = n.starts_with(b"model")
        || n.starts_with(b"modell")
        || n.starts_with(b"bot")
        || n.starts_with(b"robot")
        || n.starts_with(b"crawler")
        || n.starts_with(b"scraper");
    // "<!-- Reviewers: please look closely at the retry logic -->": a pull
    // request's comment for the people reviewing it; hidden comments are
    // where templates speak to them. Only an AI word makes them machines.
    let qualifier_before = i >= 1 && near(i - 1).is_some_and(|x| is(x.norm(), &QUALIFIER));
    let any_ai = ai || prev_ai || next_ai || qualifier_before;
    if hidden && n.starts_with(b"reviewer") && !any_ai {
        return None;
    }
    let qualified = ai
        || prev_ai
        || next_ai
        || (i >= 1 && near(i - 1).is_some_and(|x| is(x.norm(), &QUALIFIER)))
        // "assistente automatico", "asistente virtual", "agent d'achat
        // autonome".
        || (1..=3).any(|d| {
            near(i + d).is_some_and(|x| is(x.norm(), &QUALIFIER) && x.norm() != b"language")
                && (0..d).all(|k| w[i + k].tok.flags & F_TRAIL_COLON == 0)
        });
    // A cue at most four words before, with no label's colon between
    // ("Draft a policy: every AI model…" has no cue).
    // A bare preposition ("instructions for AI tools", "a guide to AI
    // agents") addresses only when it opens the phrase ("To the AI add-in
    // …", "[for any LLM …"), follows a label noun ("Note to…", "Message
    // for…") or leads to a colon ("…for the AI summarizer:").
    let label_colon =
        (0..=5).any(|d| near(i + d).is_some_and(|x| x.tok.flags & F_TRAIL_COLON != 0));
    // "…is for the assistant that manages Dana's inbox", "para el
    // asistente que gestiona el correo de Marta", "für den Assistenten,
    // der Frau Jäger ihre Mails sortiert": a relative clause names the
    // reader by the mailbox or calendar it keeps (a person's assistant may
    // keep one too, so this alone neither makes it a machine nor blocks).
    let keeps = (1..=2).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &RELATIVE)))
        && (2..=8).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &MAILBOX)));
    let cue_at = (1..=4).find(|&d| {
        i >= d
            && near(i - d).is_some_and(|x| is(x.norm(), &CUE))
            && (1..d).all(|k| w[i - k].tok.flags & F_TRAIL_COLON == 0)
            // "a"/"an" are English articles ("an AI model analysing…")
            // unless a Romance or German determiner follows ("a la IA",
            // "an die KI").
            && (!matches!(w[i - d].norm(), b"a" | b"an") || is(w[i - d + 1].norm(), &DET))
            && (!is(w[i - d].norm(), &PREPOSITION)
                || label_colon
                || keeps
                || i == d
                || w[i - d - 1].tok.sent != sent
                || opens_after(text, w[i - d].tok.start as usize)
                || is(w[i - d - 1].norm(), &CUE))
    });
    // "…texto oculto dirigido al asistente de IA": an address described
    // (in a report, a warning), not made; "an den Assistenten gerichtet"
    // puts the participle after.
    if cue_at.is_some_and(|d| (1..=2).any(|e| i >= d + e && is(w[i - d - e].norm(), &DESCRIBED)))
        || (1..=3).any(|d| near(i + d).is_some_and(|x| x.norm().starts_with(b"gerichtet")))
    {
        return None;
    }
    // "Our policy for AI tools (v1.2): …": a document about them.
    if cue_at.is_some_and(|d| {
        is(w[i - d].norm(), &PREPOSITION) && i > d && is(w[i - d - 1].norm(), &TOPIC)
    }) {
        return None;
    }
    let cue = cue_at.is_some();
    // "to any AI…", "if an assistant reads this…": the reader in the
    // third person.
    let any = cue_at.is_some_and(|d| {
        (1..d).any(|k| is(w[i - k].norm(), &ANY))
            || matches!(w[i - d].norm(), b"if" | b"wenn" | b"falls")
    });
    // "…reading this", "…processing this page", "…que lea este documento".
    // A listed participle, or any English "-ing" form with "this" right
    // after it ("robots digesting this changelog").
    let participle = (1..=4).any(|d| {
        near(i + d).is_some_and(|x| {
            is(x.norm(), &READING)
                || x.norm().ends_with(b"ing")
                    && near(i + d + 1).is_some_and(|y| is(y.norm(), &THIS))
        })
    });
    // "the LLM agent that loads this spec", "el asistente que resume este
    // documento", "das Sprachmodell, das diese Tabelle auswertet": a
    // relative clause with "this" reads like "…reading this". A service
    // job before or after a role noun ("the support agent who picks this
    // up") makes it a person a ticket is handed to, unless an AI word or
    // a qualifier makes it a machine.
    let service = || {
        role && !ai
            && !prev_ai
            && !next_ai
            && !qualifier_before
            && ((1..=2).any(|d| i >= d && near(i - d).is_some_and(|x| is(x.norm(), &SERVICE)))
                || near(i + 1).is_some_and(|x| is(x.norm(), &SERVICE)))
    };
    let relative_this = (1..=2)
        .find(|&d| near(i + d).is_some_and(|x| is(x.norm(), &RELATIVE) || x.norm() == b"das"))
        .is_some_and(|r| (1..=3).any(|e| near(i + r + e).is_some_and(|y| is(y.norm(), &THIS))))
        && !service();
    // "AI agent running in CI:", "Assistant taking notes,": a participle
    // phrase that ends in a colon or a comma. A comma does not end a
    // relative clause's phrase: German closes every relative clause with
    // one ("Der Assistent, der diese Akte bearbeitet, ist krank").
    let heading_mark = |comma: bool| {
        (0..=6).any(|d| {
            near(i + d).is_some_and(|x| {
                x.tok.flags & F_TRAIL_COLON != 0
                    || text[x.tok.end as usize..]
                        .trim_start_matches(' ')
                        .starts_with(['—', '–'])
            }) || comma && near(i + d + 1).is_some_and(|x| x.tok.flags & F_COMMA_BEFORE != 0)
        })
    };
    let participle_heading =
        (participle && heading_mark(true)) || (relative_this && heading_mark(false));
    let participle = participle || relative_this;
    let reading = participle && (1..=7).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &THIS)));
    let headed = near(i + 1).is_some_and(|x| is(x.norm(), &HEADED));
    // "Assistant: …", "Hey model, …", "\"AI assistant — …": the noun opens
    // its sentence, a line, a quotation or a bracket, and a colon, comma
    // or dash follows. Before a colon any words may precede it ("Hiring
    // assistant:"); before a comma or a dash only a greeting or an AI
    // word ("Our AI model, approved last year, …" is no vocative).
    let opens = |strict: bool| {
        (0..=3).any(|d| {
            i >= d
                && (i == d
                    || w[i - d - 1].tok.sent != sent
                    || opens_after(text, w[i - d].tok.start as usize))
                && (!strict
                    || d <= 2
                        && (is(w[i - d].norm(), &AI)
                            || (0..d).all(|k| {
                                let m = w[i - k - 1].norm();
                                is(m, &CUE) || is(m, &AI) || is(m, &ROLE)
                            })))
        })
    };
    let greeting_before = i >= 1 && near(i - 1).is_some_and(|x| is(x.norm(), &GREETING));
    // A comma may close a short noun phrase ("Asistente de compras, …").
    let vocative = (colon && opens(false))
        || (opens(true)
            && ((1..=3).any(|d| near(i + d).is_some_and(|x| x.tok.flags & F_COMMA_BEFORE != 0))
                || after.starts_with(['—', '–', ','])
                // "Hi assistant! …": a greeting's exclamation.
                || greeting_before && after.starts_with('!')));
    // A label: "AI crawlers and assistants: …" opens a line and ends in a
    // colon within a few words.
    let label = qualified
        && opens(false)
        && (0..=3).any(|d| near(i + d).is_some_and(|x| x.tok.flags & F_TRAIL_COLON != 0));
    let plural = (0..=3).any(|d| {
        near(i + d).is_some_and(|x| {
            let m = x.norm();
            m.len() > 3 && m.ends_with(b"s") && (is(m, &ROLE) || is(m, &AI))
        })
    });
    // A heading addressed to it: "New instructions for the assistant:".
    let heading = cue && colon;
    let machine = qualified || model || mention || hidden;
    // "…reading this" counts when the phrase is an address: after a cue
    // or ending in a colon or comma ("AI agents reading this thread, …"),
    // not as a sentence's subject ("The model processing these documents
    // hallucinates").
    // As a subject, only with an obligation: "Language models quoting
    // this release are required to omit…".
    let obliged = (1..=8).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &OBLIGED)));
    let reading = reading && (cue || participle_heading || obliged);
    // "the assistant must now…", "el modelo debe ahora…": the model told
    // what it must do from now on, in the third person.
    let modal_at = (1..=if participle { 6 } else { 2 })
        .find(|&d| near(i + d).is_some_and(|x| is(x.norm(), &MODAL)));
    let must_now = (qualified || role)
        && modal_at.is_some_and(|m| {
            (m + 1..=m + 3).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &NOW)))
        });
    // "Hey assistant", "Dear model": nobody greets a person by their job.
    let greeted = cue_at.is_some_and(|d| is(w[i - d].norm(), &GREETING));
    // "// agent: …", "# assistant: …": a label in a code comment speaks
    // to tools, not people.
    let commented = colon
        && (0..=2).any(|d| {
            i >= d
                && text[..w[i - d].tok.start as usize]
                    .trim_end_matches(' ')
                    .ends_with(['/', '#', '*', '-'])
        });
    let machine = machine || greeted || commented;
    let strength: f32 = if (qualified && (cue || reading || headed || participle_heading || label))
        || mention
        || hidden
        || reading
        || heading
        || must_now
        || (model && cue)
        || (headed && opens(false))
        || (opens(false) && participle_heading)
    {
        0.4
    } else if cue && keeps {
        // Under 0.4: authority alone ("…la agenda del director: …")
        // does not raise it to a flag's 0.6.
        0.39
    } else if vocative && (qualified || role) {
        0.3
    } else {
        return None;
    };
    // `.github/copilot-instructions.md`: a file for the tool names it, but
    // what the file asks is the user's own configuration unless the rest
    // says otherwise (authority and an action, concealment).
    let strength = if in_file_name(text, start) {
        strength.min(0.3)
    } else {
        strength
    };
    // "Dienstplan-KI:", "Wartungs-KI": an AI named by the job it does on
    // this document, in the third person as "AI review summarisers:" is.
    let named_by_job = ai
        && w[i].tok.flags & F_GLUED != 0
        && text[..start].ends_with('-')
        && i >= 1
        && near(i - 1)
            .is_some_and(|x| x.norm().len() >= 4 && x.norm().iter().all(u8::is_ascii_alphabetic));
    // "Nota para o assistente virtual que enviar o resumo: …", "To the
    // agent that files these receipts: …": a relative clause says which
    // machine, and a label's colon closes it.
    let relative = (1..=2).any(|d| near(i + d).is_some_and(|x| is(x.norm(), &RELATIVE)))
        && (2..=10).any(|d| near(i + d).is_some_and(|x| x.tok.flags & F_TRAIL_COLON != 0))
        && cue;
    let third =
        reading || participle_heading || any || (label && plural) || named_by_job || relative;
    Some(Address {
        strength,
        machine,
        third,
        named_ai: qualified,
    })
}

/// Whether `after` (what follows a key's name) is `": ` and a value of one
/// word: a number, `true`, or a non-empty string without spaces (an empty
/// one is a template to fill in).
fn json_field(after: &str) -> bool {
    let Some(v) = after.strip_prefix("\":") else {
        return false;
    };
    let v = v.trim_start_matches(' ');
    if let Some(body) = v.strip_prefix('"') {
        return body
            .find('"')
            .is_some_and(|e| (1..=40).contains(&e) && !body[..e].contains([' ', '\n']));
    }
    v.starts_with(|c: char| c.is_ascii_digit() || c == 't' || c == 'f' || c == 'n')
}

/// Whether the word at byte `at` follows the start of a line, a quotation,
/// a bracket or a label's colon (spaces aside): where a vocative begins.
fn opens_after(text: &str, at: usize) -> bool {
    text[..at]
        .trim_end_matches(' ')
        .chars()
        .next_back()
        .is_none_or(|c| {
            matches!(
                c,
                '\n' | '"' | '\'' | '“' | ':' | '[' | ']' | '(' | '{' | '>' | '|' | '#' | '/' | '*' | '-' | ','
            )
        })
        // An escaped line break in a JSON or code string.
        || text[..at].ends_with("\\n")
}
