//! For the unit tests: available times written out whole, to compare two readings of them.

use domain::AvailableTime;

/// Each time's start, seats, booking URL and JSON, one line each.
pub(crate) fn described(times: &[AvailableTime]) -> Vec<String> {
    times
        .iter()
        .map(|t| {
            format!(
                "{} {:?} {:?} {}",
                t.start_time,
                t.seats_left,
                t.booking_url,
                t.json.text()
            )
        })
        .collect()
}
