//! Who calls, as Calendly sees it: the user a token stands for, and the scopes it was granted.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::respond::error;
use crate::state::StandIn;

/// Who calls: the user a request's token stands for, the scopes it was granted (`None`: every
/// scope, as a token made before Calendly's scopes) and whether it is an OAuth access token.
#[derive(Debug)]
pub(crate) struct Caller {
    pub user: String,
    scopes: Option<Vec<String>>,
    pub oauth: bool,
}

impl Caller {
    /// Whether the token may `scope`: granted by name, by the `:write` scope of its domain,
    /// or a token without scopes.
    fn may(&self, scope: &str) -> bool {
        let write = scope
            .strip_suffix(":read")
            .map(|domain| format!("{domain}:write"));
        self.scopes.as_ref().is_none_or(|granted| {
            granted
                .iter()
                .any(|g| g == "default" || g == scope || Some(g) == write.as_ref())
        })
    }
}

/// The scopes of a personal access token written `scoped[users:read,event_types:read]…`;
/// `None` for any other token (every scope, as a token made before scopes).
fn pat_scopes(token: &str) -> Option<Vec<String>> {
    let rest = token.strip_prefix("scoped[")?;
    let (scopes, _) = rest.split_once(']')?;
    Some(
        scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// The caller of a request, or Calendly's 401: an OAuth access token of this stand-in while it
/// is valid, or any other token as a personal access token of its own user.
pub(crate) fn caller(request: &HttpRequest, state: &StandIn) -> Result<Caller, HttpResponse> {
    let unauthenticated = || error(401, "Unauthenticated", "The access token is invalid");
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty() && !t.starts_with("invalid"))
        .ok_or_else(unauthenticated)?;
    if let Some(granted) = state.oauth.user_of(token) {
        let (user, scopes) = granted.map_err(|()| unauthenticated())?;
        return Ok(Caller {
            user,
            scopes,
            oauth: true,
        });
    }
    let mut hasher = DefaultHasher::new();
    token.hash(&mut hasher);
    Ok(Caller {
        user: format!("{:016X}", hasher.finish()),
        scopes: pat_scopes(token),
        oauth: false,
    })
}

/// The user a request's token stands for, or Calendly's 401.
pub(crate) fn user_of(request: &HttpRequest, state: &StandIn) -> Result<String, HttpResponse> {
    caller(request, state).map(|caller| caller.user)
}

/// The caller, when its token was granted `scope`: else Calendly's 401, or its 403 naming the
/// scope (as Calendly answers since it grants access by scope).
pub(crate) fn caller_with(
    request: &HttpRequest,
    state: &StandIn,
    scope: &str,
) -> Result<Caller, HttpResponse> {
    let caller = caller(request, state)?;
    if caller.may(scope) {
        Ok(caller)
    } else {
        state.calls.scope_refusals.fetch_add(1, Ordering::Relaxed);
        Err(error(
            403,
            "Permission Denied",
            &format!("The access token is missing the required scope: {scope}"),
        ))
    }
}

/// The user, when the token was granted `scope` (see [`caller_with`]).
pub(crate) fn user_with(
    request: &HttpRequest,
    state: &StandIn,
    scope: &str,
) -> Result<String, HttpResponse> {
    caller_with(request, state, scope).map(|caller| caller.user)
}

/// The user of a request with `scope`, after `--latency-ms` (as every API endpoint answers).
pub(crate) async fn paused_caller(
    request: &HttpRequest,
    state: &StandIn,
    scope: &str,
) -> Result<String, HttpResponse> {
    crate::state::pause(state).await;
    user_with(request, state, scope)
}
