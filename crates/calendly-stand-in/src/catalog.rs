//! What each of a user's event types is: its duration, whether it is active, its seats, the
//! questions its invitees answer and the locations it offers. The `i`-th event type of every
//! user is the same, by `i % 4`.

use serde_json::{Value, json};

use crate::respond::API;

/// A question an invitee answers when booking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Question {
    pub(crate) name: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) position: u32,
    pub(crate) enabled: bool,
    pub(crate) required: bool,
}

/// One event type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kind {
    pub(crate) minutes: i64,
    pub(crate) active: bool,
    /// Invitees per time: more than one for a group event type.
    pub(crate) seats: u32,
    pub(crate) questions: &'static [Question],
    /// The location kinds offered (none: the invitee is not asked).
    pub(crate) locations: &'static [&'static str],
}

const TALK: Question = Question {
    name: "What should we talk about?",
    kind: "text",
    position: 0,
    enabled: true,
    required: true,
};
const ELSE: Question = Question {
    name: "Anything else?",
    kind: "text",
    position: 0,
    enabled: true,
    required: false,
};
/// Required but not enabled: never asked.
const PHONE: Question = Question {
    name: "Your phone number",
    kind: "phone_number",
    position: 1,
    enabled: false,
    required: true,
};

/// The `index`-th event type of a user.
pub(crate) fn kind(index: usize) -> Kind {
    let minutes = 15 * i64::try_from(index + 1).unwrap_or(1);
    match index % 4 {
        0 => Kind {
            minutes,
            active: true,
            seats: 1,
            questions: &[TALK],
            locations: &["zoom_conference"],
        },
        1 => Kind {
            minutes,
            active: true,
            seats: 1,
            questions: &[ELSE, PHONE],
            locations: &["physical", "outbound_call"],
        },
        2 => Kind {
            minutes,
            active: true,
            seats: 3,
            questions: &[],
            locations: &[],
        },
        _ => Kind {
            minutes,
            active: false,
            seats: 1,
            questions: &[],
            locations: &[],
        },
    }
}

/// The index of `event_type` when it is one of `user`'s (below `count`).
pub(crate) fn index_of(event_type: &str, user: &str, count: usize) -> Option<usize> {
    event_type
        .strip_prefix(&format!("{API}/event_types/{user}-"))?
        .parse::<usize>()
        .ok()
        .filter(|index| *index < count)
}

impl Kind {
    /// The fields Calendly writes for these: `kind`, `pooling_type`, `custom_questions`,
    /// `locations`.
    pub(crate) fn fields(&self) -> [(&'static str, Value); 4] {
        let questions: Vec<Value> = self
            .questions
            .iter()
            .map(|q| {
                json!({
                    "name": q.name, "type": q.kind, "position": q.position,
                    "enabled": q.enabled, "required": q.required,
                    "answer_choices": [], "include_other": false
                })
            })
            .collect();
        let locations = (!self.locations.is_empty()).then(|| {
            self.locations
                .iter()
                .map(|kind| match *kind {
                    "physical" => json!({"kind": kind, "location": "1 Main Street"}),
                    _ => json!({"kind": kind}),
                })
                .collect::<Vec<_>>()
        });
        [
            ("kind", json!(if self.seats > 1 { "group" } else { "solo" })),
            ("pooling_type", Value::Null),
            ("custom_questions", json!(questions)),
            ("locations", json!(locations)),
        ]
    }
}
