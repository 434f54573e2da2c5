//! What handlers share: the use cases and the ports they need directly.

use std::fmt;
use std::sync::Arc;

use domain::{SchedulingService, TokenRepository, UserAuth};

#[derive(Clone)]
pub struct AppState {
    pub service: SchedulingService,
    pub user_auth: Arc<dyn UserAuth>,
    /// For readiness: whether the store answers.
    pub tokens: Arc<dyn TokenRepository>,
    /// Where the OAuth callback sends the browser (`calendly.oauth.return_url`); `None`: it
    /// answers JSON.
    pub return_url: Option<String>,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}
