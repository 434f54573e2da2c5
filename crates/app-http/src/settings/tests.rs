use super::*;

pub(super) fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

pub(super) fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_are_those_of_the_contract() {
    let settings = Settings::load_from(&config_dir(), "local", vars(&[])).expect("loads");
    assert_eq!(settings.server.host, "127.0.0.1");
    assert_eq!(settings.server.port, 8080);
    assert_eq!(settings.calendly.api_base_url, "https://api.calendly.com");
    assert_eq!(settings.calendly.timeout_ms, 10_000);
    assert_eq!(settings.calendly.max_days_per_call, 31);
    assert_eq!(settings.limits.max_range_days, 365);
}

#[test]
fn environment_variables_win() {
    let settings = Settings::load_from(
        &config_dir(),
        "local",
        vars(&[
            ("APP__SERVER__PORT", "0"),
            ("APP__SERVER__HOST", "0.0.0.0"),
            ("APP__CALENDLY__API_BASE_URL", "http://127.0.0.1:9999"),
            ("APP__CALENDLY__TIMEOUT_MS", "1500"),
            ("APP__LIMITS__MAX_RANGE_DAYS", "90"),
            ("APP__AUTH__JWT_SECRET", "12345678901234567890"),
        ]),
    )
    .expect("loads");
    assert_eq!(settings.server.port, 0);
    assert_eq!(settings.server.host, "0.0.0.0");
    assert_eq!(settings.calendly.api_base_url, "http://127.0.0.1:9999");
    assert_eq!(settings.calendly.timeout_ms, 1500);
    assert_eq!(settings.limits.max_range_days, 90);
    assert_eq!(
        settings.auth.jwt_secret.expose_secret(),
        "12345678901234567890"
    );
}

#[test]
fn without_a_secret_an_environment_without_defaults_says_which() {
    let error = Settings::load_from(&config_dir(), "staging", vars(&[]))
        .expect_err("no secrets in default.toml");
    let text = error.to_string();
    assert!(
        text.contains("auth.jwt_secret") && text.contains("APP__AUTH__JWT_SECRET"),
        "{text}"
    );
}

pub(super) const PRODUCTION_JWT_SECRET: &str = "a-real-production-secret-of-some-length";

/// Loads the production configuration with these secrets in the environment.
pub(super) fn production_with(secrets: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::load_from(&config_dir(), "production", vars(secrets))
}

#[test]
fn production_refuses_missing_and_development_secrets() {
    let error = production_with(&[("APP__AUTH__JWT_SECRET", PRODUCTION_JWT_SECRET)])
        .expect_err("key missing");
    assert!(
        error.to_string().contains("calendly.token_encryption_key"),
        "{error}"
    );

    let local = Settings::load_from(&config_dir(), "local", vars(&[])).expect("loads");
    let error = production_with(&[
        ("APP__AUTH__JWT_SECRET", PRODUCTION_JWT_SECRET),
        (
            "APP__CALENDLY__TOKEN_ENCRYPTION_KEY",
            local
                .calendly
                .token_encryption_key
                .as_ref()
                .expect("a development key")
                .expose_secret(),
        ),
    ])
    .expect_err("development key");
    assert!(
        matches!(
            error,
            SettingsError::DevelopmentSecret {
                key: "calendly.token_encryption_key",
                ..
            }
        ),
        "{error}"
    );

    production_with(&[
        ("APP__AUTH__JWT_SECRET", PRODUCTION_JWT_SECRET),
        (
            "APP__CALENDLY__TOKEN_ENCRYPTION_KEY",
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        ),
    ])
    .expect("real secrets are accepted");
}

#[test]
fn cors_origins_are_none_by_default_and_a_list_from_the_environment() {
    let settings = Settings::load_from(&config_dir(), "local", vars(&[])).expect("loads");
    assert!(settings.http.cors_allowed_origins.is_empty());

    let settings = Settings::load_from(
        &config_dir(),
        "local",
        vars(&[(
            "APP__HTTP__CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:3000",
        )]),
    )
    .expect("loads");
    assert_eq!(
        settings.http.cors_allowed_origins,
        ["https://app.example.com", "http://localhost:3000"]
    );

    let error = Settings::load_from(
        &config_dir(),
        "local",
        vars(&[("APP__HTTP__CORS_ALLOWED_ORIGINS", "app.example.com/path")]),
    )
    .expect_err("not an origin");
    assert!(
        error.to_string().contains("cors_allowed_origins"),
        "{error}"
    );
}

#[test]
fn several_encryption_keys_come_first_and_the_single_key_keeps_working() {
    let settings = Settings::load_from(
        &config_dir(),
        "local",
        vars(&[(
            "APP__CALENDLY__TOKEN_ENCRYPTION_KEYS",
            "2026-11:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=, 2026-05:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )]),
    )
    .expect("loads");
    let ids: Vec<String> = settings
        .token_encryption_keys()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["2026-11", "2026-05", "default"]);

    let error = production_with(&[
        ("APP__AUTH__JWT_SECRET", PRODUCTION_JWT_SECRET),
        (
            "APP__CALENDLY__TOKEN_ENCRYPTION_KEYS",
            "new:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=,old:bG9jYWwtZGV2ZWxvcG1lbnQta2V5LTMyLWJ5dGVzISE=",
        ),
    ])
    .expect_err("a development key in the list");
    assert!(
        matches!(
            error,
            SettingsError::DevelopmentSecret {
                key: "calendly.token_encryption_keys",
                ..
            }
        ),
        "{error}"
    );
    production_with(&[
        ("APP__AUTH__JWT_SECRET", PRODUCTION_JWT_SECRET),
        (
            "APP__CALENDLY__TOKEN_ENCRYPTION_KEYS",
            "new:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        ),
    ])
    .expect("the list alone is enough");
}

#[test]
fn an_unknown_key_is_refused_by_name() {
    let error = Settings::load_from(
        &config_dir(),
        "local",
        vars(&[("APP__SERVER__PROT", "8081")]),
    )
    .expect_err("a typo");
    assert!(error.to_string().contains("prot"), "{error}");
}

#[test]
fn debug_output_shows_no_secret() {
    let settings = Settings::load_from(&config_dir(), "local", vars(&[])).expect("loads");
    let shown = format!("{settings:?}");
    assert!(!shown.contains(settings.auth.jwt_secret.expose_secret()));
    for (_, key) in settings.token_encryption_keys() {
        assert!(!shown.contains(key.expose_secret()));
    }
}

#[test]
fn the_demo_is_on_in_the_local_profile_and_refused_in_production() {
    let local = Settings::load_from(&config_dir(), "local", vars(&[])).expect("loads");
    assert!(local.demo.enabled);
    assert_eq!(
        local.calendly.oauth.redirect_uri.as_deref(),
        Some("http://127.0.0.1:8080/demo/"),
        "the OAuth button of the local profile comes back to the demo"
    );
    let secrets = [
        ("APP__AUTH__JWT_SECRET", PRODUCTION_JWT_SECRET),
        (
            "APP__CALENDLY__TOKEN_ENCRYPTION_KEY",
            "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHA=",
        ),
    ];
    let production = production_with(&secrets).expect("loads");
    assert!(!production.demo.enabled);
    let error = production_with(&[secrets[0], secrets[1], ("APP__DEMO__ENABLED", "true")])
        .expect_err("the demo refused");
    assert!(error.to_string().contains("demo.enabled"), "{error}");
}
