// Every refusal of the gateway in words, with what the visitor can do about it.
import { GatewayError } from "./api";

export interface Words {
  text: string;
  /** Where to go next, when there is a place that helps. */
  action?: { label: string; href: string };
}

function clock(secondsFromNow: number): string {
  const at = new Date(Date.now() + secondsFromNow * 1000);
  return at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function wordsFor(error: unknown): Words {
  if (!(error instanceof GatewayError)) {
    return { text: "Something went wrong in this page. Reload it and try again." };
  }
  const reconnect = { label: "Reconnect your Calendly account", href: "#/connection" };
  const connect = { label: "Connect Calendly", href: "#/connection" };
  const freeTimes = { label: "See the free times", href: "#/book" };
  const bookings = { label: "Your bookings", href: "#/bookings" };
  switch (error.code) {
    case "unreachable":
      return { text: "The gateway is not answering. Check that it is running, then try again." };
    case "not_authenticated":
    case "invalid_credentials":
    case "token_expired":
      return { text: "Your sign-in has ended. Sign in again to go on.", action: { label: "Sign in", href: "#/signin" } };
    case "calendly_not_connected":
      return { text: "No Calendly account is connected yet. Connect one first.", action: connect };
    case "calendly_reauth_required":
      return { text: "Calendly no longer accepts this connection (it was revoked or has expired). Reconnect your Calendly account, then try again.", action: reconnect };
    case "calendly_scope_missing": {
      // The gateway names the scope ("… the scope scheduled_events:read, …").
      const scope = /scope ([a-z_]+:[a-z_]+)/.exec(error.detail)?.[1];
      const what = scope ? `access to ${scope}` : "the access this needs";
      return { text: `The Calendly connection was not given ${what}. Reconnect your Calendly account and allow it.`, action: reconnect };
    }
    case "calendly_rate_limited": {
      const wait = error.retryAfter ?? 60;
      const span = wait < 90 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`;
      return { text: `Calendly is not taking more requests for this account right now. Try again in ${span} (at ${clock(wait)}).` };
    }
    case "slot_unavailable":
      return { text: "That time was just taken or is no longer free. Pick another time.", action: freeTimes };
    case "event_type_inactive":
      return { text: "This kind of meeting is switched off in Calendly. Pick another one.", action: freeTimes };
    case "request_in_progress":
      return { text: "This booking is still being made. Wait a few seconds, then look at your bookings.", action: bookings };
    case "booking_already_canceled":
      return { text: "This booking was canceled already." };
    case "booking_not_found":
      return { text: "There is no such booking in your Calendly account.", action: bookings };
    case "invalid_state":
      return { text: "That connection attempt has expired or was already used. Start connecting again.", action: connect };
    case "access_denied":
      return { text: "Calendly says you declined the connection. Connect again if you change your mind.", action: connect };
    case "oauth_user_mismatch":
      return { text: "That Calendly link was started by another user of this application. Start connecting again yourself.", action: connect };
    case "oauth_not_configured":
      return { text: "Connecting with the Calendly button is not set up on this gateway. Paste a personal access token instead." };
    case "calendly_token_invalid":
      return { text: "Calendly does not accept this token. Check it (Calendly › Integrations › API and webhooks) and paste it again." };
    case "calendly_timeout":
    case "calendly_unavailable":
      return { text: "Calendly is not answering properly right now. Try again in a minute." };
    case "database_unavailable":
      return { text: "The gateway cannot reach its database right now. Try again in a minute." };
    default:
      if (error.status === 400 || error.status === 422) {
        return { text: `Please check what you entered: ${error.detail}` };
      }
      return { text: `The gateway refused this (${error.status}): ${error.detail}` };
  }
}
