//! What an event type asks of whoever books it, and a booking checked against it before any
//! call: the provider refuses the same things, but only after a call that counts against the
//! account's booking limit.

use super::model::{BookingRequest, MAX_GUESTS};

/// One of the questions an event type asks its invitees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Its exact text (answers must repeat it, case and all).
    pub text: String,
    pub position: u32,
    pub required: bool,
    /// A disabled question is not asked.
    pub enabled: bool,
}

/// What booking an event type asks: its questions, and the kinds of location it offers (none:
/// the provider decides, and a booking names none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingForm {
    pub questions: Vec<Question>,
    pub location_kinds: Vec<String>,
}

/// Why a booking does not fit its event type's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("questions_and_answers: \"{0}\" is not one of the event type's questions.")]
    UnknownQuestion(String),
    #[error("questions_and_answers: \"{question}\" is at position {expected}, not {given}.")]
    WrongPosition {
        question: String,
        expected: u32,
        given: u32,
    },
    #[error("questions_and_answers: \"{0}\" is answered more than once.")]
    AnsweredTwice(String),
    #[error("questions_and_answers: \"{0}\" is required.")]
    RequiredMissing(String),
    #[error("location.kind: \"{kind}\" is not offered; the event type offers {offered}.")]
    LocationNotOffered { kind: String, offered: String },
    #[error("guests: at most {MAX_GUESTS}.")]
    TooManyGuests,
}

impl BookingForm {
    /// `Ok` when `request` answers what the form asks: each answer to an asked question (its
    /// exact text and position) at most once, every required question answered, a location
    /// kind offered, at most [`MAX_GUESTS`] guests.
    pub fn check(&self, request: &BookingRequest) -> Result<(), FormError> {
        let asked = || self.questions.iter().filter(|q| q.enabled);
        for (at, answer) in request.answers.iter().enumerate() {
            let question = asked()
                .find(|q| q.text == answer.question)
                .ok_or_else(|| FormError::UnknownQuestion(answer.question.clone()))?;
            if question.position != answer.position {
                return Err(FormError::WrongPosition {
                    question: question.text.clone(),
                    expected: question.position,
                    given: answer.position,
                });
            }
            if request.answers[..at]
                .iter()
                .any(|earlier| earlier.question == answer.question)
            {
                return Err(FormError::AnsweredTwice(answer.question.clone()));
            }
        }
        for question in asked().filter(|q| q.required) {
            let answered = request
                .answers
                .iter()
                .any(|a| a.question == question.text && !a.answer.trim().is_empty());
            if !answered {
                return Err(FormError::RequiredMissing(question.text.clone()));
            }
        }
        if let Some(location) = &request.location
            && !self.location_kinds.contains(&location.kind)
        {
            let offered = if self.location_kinds.is_empty() {
                "none".to_owned()
            } else {
                self.location_kinds.join(", ")
            };
            return Err(FormError::LocationNotOffered {
                kind: location.kind.clone(),
                offered,
            });
        }
        if request.guests.len() > MAX_GUESTS {
            return Err(FormError::TooManyGuests);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::booking::model::{Answer, Email, Invitee, InviteeName, LocationChoice};
    use crate::model::EventTypeUri;

    fn form() -> BookingForm {
        BookingForm {
            questions: vec![
                Question {
                    text: "What should we talk about?".into(),
                    position: 0,
                    required: true,
                    enabled: true,
                },
                Question {
                    text: "Anything else?".into(),
                    position: 1,
                    required: false,
                    enabled: true,
                },
                Question {
                    text: "Your phone number".into(),
                    position: 2,
                    required: true,
                    enabled: false,
                },
            ],
            location_kinds: vec!["zoom_conference".into()],
        }
    }

    fn request(answers: &[(&str, &str, u32)]) -> BookingRequest {
        BookingRequest {
            event_type: EventTypeUri::parse("https://api.calendly.com/event_types/E").expect("uri"),
            start_time: Utc
                .with_ymd_and_hms(2030, 1, 2, 9, 0, 0)
                .single()
                .expect("time"),
            invitee: Invitee {
                name: InviteeName::Full("Ada".into()),
                email: Email::parse("ada@example.com").expect("email"),
                timezone: chrono_tz::Europe::London,
                text_reminder_number: None,
            },
            location: None,
            answers: answers
                .iter()
                .map(|(question, answer, position)| Answer {
                    question: (*question).into(),
                    answer: (*answer).into(),
                    position: *position,
                })
                .collect(),
            guests: Vec::new(),
            tracking: None,
        }
    }

    #[test]
    fn a_booking_answering_the_required_question_fits() {
        let fits = request(&[("What should we talk about?", "Engines", 0)]);
        assert_eq!(form().check(&fits), Ok(()));
    }

    #[test]
    fn questions_must_be_asked_answered_once_and_in_place() {
        let form = form();
        let checks = [
            (
                request(&[]),
                FormError::RequiredMissing("What should we talk about?".into()),
            ),
            (
                request(&[("What should we talk about?", "  ", 0)]),
                FormError::RequiredMissing("What should we talk about?".into()),
            ),
            (
                request(&[("what should we talk about?", "Engines", 0)]),
                FormError::UnknownQuestion("what should we talk about?".into()),
            ),
            (
                request(&[("Your phone number", "1", 2)]),
                FormError::UnknownQuestion("Your phone number".into()),
            ),
            (
                request(&[("What should we talk about?", "Engines", 1)]),
                FormError::WrongPosition {
                    question: "What should we talk about?".into(),
                    expected: 0,
                    given: 1,
                },
            ),
            (
                request(&[
                    ("What should we talk about?", "Engines", 0),
                    ("What should we talk about?", "Looms", 0),
                ]),
                FormError::AnsweredTwice("What should we talk about?".into()),
            ),
        ];
        for (request, error) in checks {
            assert_eq!(form.check(&request), Err(error));
        }
    }

    #[test]
    fn a_location_must_be_offered_and_guests_are_at_most_ten() {
        let form = form();
        let mut asked = request(&[("What should we talk about?", "Engines", 0)]);
        asked.location = Some(LocationChoice {
            kind: "physical".into(),
            location: None,
        });
        assert!(matches!(
            form.check(&asked),
            Err(FormError::LocationNotOffered { .. })
        ));
        asked.location = Some(LocationChoice {
            kind: "zoom_conference".into(),
            location: None,
        });
        asked.guests = vec![Email::parse("g@example.com").expect("email"); 11];
        assert_eq!(form.check(&asked), Err(FormError::TooManyGuests));
        asked.guests.truncate(10);
        assert_eq!(form.check(&asked), Ok(()));
    }
}
