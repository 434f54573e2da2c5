//! Another scheduling provider than Calendly, given to the startup: the gateway wires it
//! behind the same cache, use cases and routes as Calendly's client.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{
    AvailableTimes, BusyTime, CalendlyToken, CalendlyUser, CalendlyUserUri, EventType,
    EventTypeUri, ProviderError, RawJson, SchedulingProvider, TimeRange, TimesAsked,
};

/// A provider shared by every HTTP worker, as one the cache can wrap.
pub(super) struct Given(pub(super) Arc<dyn SchedulingProvider>);

#[async_trait]
impl SchedulingProvider for Given {
    async fn current_user(&self, token: &CalendlyToken) -> Result<CalendlyUser, ProviderError> {
        self.0.current_user(token).await
    }

    async fn event_types(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Arc<[EventType]>, ProviderError> {
        self.0.event_types(token, user).await
    }

    async fn available_times(
        &self,
        token: &CalendlyToken,
        account: &CalendlyUserUri,
        event_type: &EventTypeUri,
        range: TimeRange,
    ) -> Result<AvailableTimes, ProviderError> {
        self.0
            .available_times(token, account, event_type, range)
            .await
    }

    async fn busy_times(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
        range: TimeRange,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        self.0.busy_times(token, user, range).await
    }

    async fn availability_schedules(
        &self,
        token: &CalendlyToken,
        user: &CalendlyUserUri,
    ) -> Result<Vec<RawJson>, ProviderError> {
        self.0.availability_schedules(token, user).await
    }

    async fn afford(
        &self,
        account: &CalendlyUserUri,
        asked: &[TimesAsked],
    ) -> Result<(), ProviderError> {
        self.0.afford(account, asked).await
    }
}
