//! `calendly.oauth`'s settings: the application, its redirect URI, scopes and webhook keys.

use secrecy::ExposeSecret;

use super::tests::{PRODUCTION_JWT_SECRET, config_dir, production_with, vars};
use super::*;

const PRODUCTION_KEY: &str = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=";

fn production_oauth(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let mut secrets = vec![
        ("APP__AUTH__JWT_SECRET", PRODUCTION_JWT_SECRET),
        ("APP__CALENDLY__TOKEN_ENCRYPTION_KEY", PRODUCTION_KEY),
        ("APP__CALENDLY__OAUTH__CLIENT_ID", "the-client"),
        (
            "APP__CALENDLY__OAUTH__REDIRECT_URI",
            "https://gateway.example.com/calendly/oauth/callback",
        ),
        (
            "APP__CALENDLY__OAUTH__RETURN_URL",
            "https://app.example.com/settings",
        ),
    ];
    secrets.extend_from_slice(extra);
    production_with(&secrets)
}

#[test]
fn oauth_is_off_without_a_client_id_and_whole_with_one() {
    let local = Settings::load_from(&config_dir(), "local", vars(&[])).expect("loads");
    assert!(local.oauth_application().is_none());
    assert_eq!(local.calendly.auth_base_url, "https://auth.calendly.com");

    let settings = production_oauth(&[
        (
            "APP__CALENDLY__OAUTH__CLIENT_SECRET",
            "a-real-client-secret",
        ),
        (
            "APP__CALENDLY__OAUTH__RETURN_URL",
            "https://app.example.com/settings",
        ),
    ])
    .expect("loads");
    let application = settings.oauth_application().expect("on");
    assert_eq!(application.client_id, "the-client");
    assert_eq!(
        application.return_url.as_deref(),
        Some("https://app.example.com/settings")
    );
    assert!(!format!("{settings:?}").contains("a-real-client-secret"));
}

#[test]
fn the_redirect_uri_may_be_the_web_applications_page_and_scopes_are_asked_for() {
    let settings = production_oauth(&[
        (
            "APP__CALENDLY__OAUTH__CLIENT_SECRET",
            "a-real-client-secret",
        ),
        (
            "APP__CALENDLY__OAUTH__REDIRECT_URI",
            "https://app.example.com/calendly/connected",
        ),
        ("APP__CALENDLY__OAUTH__RETURN_URL", ""),
        (
            "APP__CALENDLY__OAUTH__SCOPES",
            "users:read event_types:read",
        ),
    ])
    .expect("loads");
    let application = settings.oauth_application().expect("on");
    assert_eq!(
        application.redirect_uri,
        "https://app.example.com/calendly/connected"
    );
    assert_eq!(application.return_url, None);
    assert_eq!(
        application.scopes.as_deref(),
        Some("users:read event_types:read")
    );
}

#[test]
fn with_oauth_and_webhooks_the_applications_webhook_key_is_needed_and_never_a_development_one() {
    let webhooks = (
        "APP__WEBHOOKS__PUBLIC_BASE_URL",
        "https://gateway.example.com",
    );
    let secret = (
        "APP__CALENDLY__OAUTH__CLIENT_SECRET",
        "a-real-client-secret",
    );
    let missing = production_oauth(&[secret, webhooks]).expect_err("no webhook key");
    assert!(
        missing
            .to_string()
            .contains("calendly.oauth.webhook_signing_key"),
        "{missing}"
    );
    let development = production_oauth(&[
        secret,
        webhooks,
        (
            "APP__CALENDLY__OAUTH__WEBHOOK_SIGNING_KEY",
            "stand-in-webhook-signing-key",
        ),
    ])
    .expect_err("the development key");
    assert!(
        matches!(
            development,
            SettingsError::DevelopmentSecret {
                key: "calendly.oauth.webhook_signing_key",
                ..
            }
        ),
        "{development}"
    );
    let settings = production_oauth(&[
        secret,
        webhooks,
        ("APP__CALENDLY__OAUTH__WEBHOOK_SIGNING_KEY", "the-apps-key"),
        (
            "APP__CALENDLY__OAUTH__PREVIOUS_WEBHOOK_SIGNING_KEY",
            "the-apps-old-key",
        ),
    ])
    .expect("loads");
    let keys: Vec<String> = settings
        .oauth_application()
        .expect("on")
        .webhook_signing_keys
        .iter()
        .map(|key| key.expose_secret().to_owned())
        .collect();
    assert_eq!(keys, ["the-apps-key", "the-apps-old-key"]);
    let shown = format!("{settings:?}");
    assert!(!shown.contains("the-apps-key") && !shown.contains("the-apps-old-key"));
    // Without webhooks no key is needed.
    assert!(production_oauth(&[secret]).is_ok());
}

#[test]
fn oauth_refuses_a_missing_or_development_secret_and_a_wrong_redirect_uri() {
    let missing = production_oauth(&[]).expect_err("no secret");
    assert!(
        matches!(
            missing,
            SettingsError::MissingSecret {
                key: "calendly.oauth.client_secret",
                ..
            }
        ),
        "{missing}"
    );
    let development = production_oauth(&[(
        "APP__CALENDLY__OAUTH__CLIENT_SECRET",
        "stand-in-client-secret",
    )])
    .expect_err("development secret");
    assert!(
        matches!(
            development,
            SettingsError::DevelopmentSecret {
                key: "calendly.oauth.client_secret",
                ..
            }
        ),
        "{development}"
    );
    for (var, value) in [
        // The gateway's callback passes Calendly's answer on: it needs a page to pass it to.
        ("APP__CALENDLY__OAUTH__RETURN_URL", ""),
        (
            "APP__CALENDLY__OAUTH__SCOPES",
            "users:read\tevent_types:read",
        ),
        (
            "APP__CALENDLY__OAUTH__REDIRECT_URI",
            "gateway.example.com/calendly/oauth/callback",
        ),
        (
            "APP__CALENDLY__OAUTH__RETURN_URL",
            "https://app.example.com/#fragment",
        ),
        ("APP__CALENDLY__AUTH_BASE_URL", "auth.calendly.com"),
    ] {
        let error = production_oauth(&[
            (
                "APP__CALENDLY__OAUTH__CLIENT_SECRET",
                "a-real-client-secret",
            ),
            (var, value),
        ])
        .expect_err(value);
        assert!(
            matches!(error, SettingsError::Invalid(_)),
            "{var}={value}: {error}"
        );
    }
}
