// The gateway's API through a client generated from its OpenAPI document (gateway.d.ts, made by
// `npm run generate` from docs/openapi.json): every path, parameter and body below is checked
// against that document when the client is built.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./gateway";

export type Schemas = components["schemas"];
export type Booking = Schemas["Booking"];
export type Connection = Schemas["Connection"];
export type Slot = Schemas["Slot"];
export type SlotDay = Schemas["SlotDay"];
export type BookingRequest = Schemas["BookingRequest"];

/** A question of an event type, as Calendly writes it (the gateway passes event types on whole). */
export interface Question {
  name: string;
  type: string;
  position: number;
  enabled: boolean;
  required: boolean;
  answer_choices?: string[] | null;
}

/** A place an event type offers, as Calendly writes it. */
export interface Place {
  kind: string;
  location?: string | null;
}

/** The parts of a Calendly event type this client reads, beside those the schema names. */
export type EventType = Schemas["EventType"] & {
  name?: string | null;
  active?: boolean;
  duration?: number;
  custom_questions?: Question[] | null;
  locations?: Place[] | null;
};

const GATEWAY_KEY = "gateway";
const TOKEN_KEY = "token";
const USER_KEY = "user";

/**
 * Where the gateway is: this page's own origin when the gateway serves it (`/demo/`), or the
 * `gateway` query parameter once given (a page served from another origin, allowed by the
 * gateway's `http.cors_allowed_origins`), remembered for the tab.
 */
function gatewayUrl(): string {
  const given = new URLSearchParams(location.search).get(GATEWAY_KEY);
  if (given) {
    sessionStorage.setItem(GATEWAY_KEY, given.replace(/\/+$/, ""));
  }
  return sessionStorage.getItem(GATEWAY_KEY) ?? location.origin;
}

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  user: (): string | null => sessionStorage.getItem(USER_KEY),
  start(user: string, token: string): void {
    sessionStorage.setItem(USER_KEY, user);
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  end(): void {
    sessionStorage.removeItem(USER_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

const bearer: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: gatewayUrl() });
api.use(bearer);

/** A refusal of the gateway (or no answer at all: `status` 0), with what it said. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** Seconds to wait, from `Retry-After`. */
    readonly retryAfter: number | null,
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's body, or a [`GatewayError`] for a refusal. */
export async function answer<T>(call: Promise<Answer<T>>): Promise<T> {
  let result: Answer<T>;
  try {
    result = await call;
  } catch {
    throw new GatewayError(0, "unreachable", "The gateway did not answer.", null);
  }
  const { data, error, response } = result;
  if (response.ok) {
    return data as T;
  }
  const body = (error ?? {}) as { code?: unknown; detail?: unknown };
  const retry = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  throw new GatewayError(
    response.status,
    typeof body.code === "string" ? body.code : "error",
    typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? ""),
    Number.isFinite(retry) ? retry : null,
  );
}
