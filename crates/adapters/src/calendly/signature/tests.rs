use super::*;

fn deliveries_read(event: &str) -> Delivery {
    let body = format!(r#"{{"event":"{event}","payload":{{}}}}"#);
    let header = signature_header(&key(), NOW, body.as_bytes());
    CalendlyDeliveries
        .read(
            &[&key()],
            Some(&header),
            body.as_bytes(),
            now(),
            TimeDelta::seconds(180),
        )
        .expect("signed")
}

#[test]
fn invitee_events_change_the_times_and_event_type_events_everything() {
    assert_eq!(deliveries_read("invitee.created").change, Change::Times);
    assert_eq!(deliveries_read("invitee.canceled").change, Change::Times);
    assert_eq!(
        deliveries_read("event_type.updated").change,
        Change::Everything
    );
    let other = deliveries_read("routing_form_submission.created");
    assert_eq!(
        (other.event.as_deref(), other.change),
        (Some("routing_form_submission.created"), Change::Nothing)
    );
    let header = signature_header(&key(), NOW, b"not json");
    let unreadable = CalendlyDeliveries
        .read(
            &[&key()],
            Some(&header),
            b"not json",
            now(),
            TimeDelta::seconds(180),
        )
        .expect("signed");
    assert_eq!(
        (unreadable.event, unreadable.change),
        (None, Change::Nothing)
    );
}

#[test]
fn any_of_several_keys_may_sign_and_none_signs_nothing() {
    let other = SigningKey::new("another-key");
    let header = signature_header(&other, NOW, BODY);
    assert_eq!(
        verify_signature_with_any(
            &[&key(), &other],
            Some(&header),
            BODY,
            now(),
            TimeDelta::seconds(180)
        ),
        Ok(())
    );
    assert_eq!(
        verify_signature_with_any(
            &[&key()],
            Some(&header),
            BODY,
            now(),
            TimeDelta::seconds(180)
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature_with_any(&[], Some(&header), BODY, now(), TimeDelta::seconds(180)),
        Err(SignatureError::Mismatch)
    );
    let stale = signature_header(&other, NOW - 1000, BODY);
    assert_eq!(
        verify_signature_with_any(
            &[&key(), &other],
            Some(&stale),
            BODY,
            now(),
            TimeDelta::seconds(180)
        ),
        Err(SignatureError::Stale)
    );
}

const BODY: &[u8] = br#"{"event":"invitee.created","payload":{}}"#;
const NOW: i64 = 1_900_000_000;

fn key() -> SigningKey {
    SigningKey::new("the-hooks-signing-key")
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).expect("time")
}

fn check(header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    verify_signature(&key(), header, body, now(), TimeDelta::seconds(180))
}

#[test]
fn a_delivery_signed_with_the_key_passes() {
    let header = signature_header(&key(), NOW - 10, BODY);
    assert_eq!(check(Some(&header), BODY), Ok(()));
    assert_eq!(
        check(
            Some(
                &header
                    .to_uppercase()
                    .replace("T=", "t=")
                    .replace("V1=", "v1=")
            ),
            BODY
        ),
        Ok(())
    );
    assert_eq!(check(Some(&header.replace(',', " , ")), BODY), Ok(()));
}

#[test]
fn a_missing_or_malformed_header_is_refused() {
    assert_eq!(check(None, BODY), Err(SignatureError::Missing));
    let good = signature_header(&key(), NOW, BODY);
    let v1 = good.split("v1=").nth(1).expect("v1");
    for header in [
        String::new(),
        "garbage".to_owned(),
        format!("v1={v1}"),
        format!("t={NOW}"),
        format!("t=,v1={v1}"),
        format!("t=-5,v1={v1}"),
        format!("t=1e9,v1={v1}"),
        format!("t={NOW},t={NOW},v1={v1}"),
        format!("t={NOW},v1=zz"),
        format!("t={NOW},v1={}", &v1[1..]),
    ] {
        assert_eq!(
            check(Some(&header), BODY),
            Err(SignatureError::Malformed),
            "{header}"
        );
    }
}

#[test]
fn another_key_or_a_changed_body_is_refused() {
    let other = signature_header(&SigningKey::new("another key"), NOW, BODY);
    assert_eq!(check(Some(&other), BODY), Err(SignatureError::Mismatch));
    let header = signature_header(&key(), NOW, BODY);
    let mut changed = BODY.to_vec();
    changed[5] ^= 1;
    assert_eq!(
        check(Some(&header), &changed),
        Err(SignatureError::Mismatch)
    );
    let mut longer = BODY.to_vec();
    longer.push(b' ');
    assert_eq!(check(Some(&header), &longer), Err(SignatureError::Mismatch));
    // The time is signed too: the same v1 with another t does not pass.
    let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW - 1));
    assert_eq!(check(Some(&moved), BODY), Err(SignatureError::Mismatch));
}

#[test]
fn a_time_beyond_the_tolerance_either_way_is_refused() {
    for (t, verdict) in [
        (NOW - 180, Ok(())),
        (NOW + 180, Ok(())),
        (NOW - 181, Err(SignatureError::Stale)),
        (NOW + 181, Err(SignatureError::Stale)),
        (0, Err(SignatureError::Stale)),
    ] {
        let header = signature_header(&key(), t, BODY);
        assert_eq!(check(Some(&header), BODY), verdict, "t={t}");
    }
}

#[test]
fn of_two_v1_values_any_valid_one_passes() {
    let good = signature_header(&key(), NOW, BODY);
    let v1 = good.split("v1=").nth(1).expect("v1");
    let wrong = "ab".repeat(32);
    assert_eq!(
        check(Some(&format!("t={NOW},v1={wrong},v1={v1}")), BODY),
        Ok(())
    );
    assert_eq!(
        check(Some(&format!("t={NOW},v1={v1},v1={wrong}")), BODY),
        Ok(())
    );
    assert_eq!(
        check(Some(&format!("t={NOW},v1={wrong},v1={wrong}")), BODY),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        check(Some(&format!("t={NOW},v0=00,v1={v1}")), BODY),
        Ok(()),
        "other schemes are ignored"
    );
}
