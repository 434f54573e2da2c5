use super::*;

#[test]
fn hook_ids_and_keys_keep_to_themselves() {
    assert!(HookId::parse("a".repeat(15)).is_err());
    assert!(HookId::parse("a/b".repeat(8)).is_err());
    assert!(HookId::parse("Ab3-_".repeat(4)).is_ok());
    assert_eq!(
        format!("{:?}", SigningKey::new("the-hooks-signing-key")),
        "SigningKey([redacted])"
    );
}
