// Dates and times as a visitor in a given IANA time zone reads them. The gateway already gives
// each slot's start with that zone's offset and groups slots by the zone's local date; this finds
// the instants at which the zone's days begin, to ask for a week.

/** `YYYY-MM-DD` of `instant` in `zone`. */
export function dateIn(zone: string, instant: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** `date` (`YYYY-MM-DD`) plus `days`. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  const next = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days));
  return next.toISOString().slice(0, 10);
}

/** How far `zone`'s clock is ahead of UTC at `instant`, in milliseconds. */
function offsetAt(zone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant `date` begins in `zone`, as RFC 3339 in UTC. */
export function startOfDay(date: string, zone: string): string {
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  let instant = midnightUtc - offsetAt(zone, midnightUtc);
  // Once more at the guess itself: the offset may differ there (a change of daylight saving).
  instant = midnightUtc - offsetAt(zone, instant);
  return new Date(instant).toISOString().replace(".000Z", "Z");
}

/** "Thursday 3 December" for `YYYY-MM-DD`. */
export function dayName(date: string, long = true): string {
  return new Date(`${date}T12:00:00Z`).toLocaleDateString("en-GB", {
    timeZone: "UTC",
    weekday: long ? "long" : "short",
    day: "numeric",
    month: long ? "long" : "short",
  });
}

/** "14:30" from an RFC 3339 time written with the zone's offset (as the gateway writes slots). */
export function clockOf(time: string): string {
  return time.slice(11, 16);
}

/** A UTC time written out in `zone`: "Thursday 3 December 2026, 14:30". */
export function when(utc: string, zone: string): string {
  return new Date(utc).toLocaleString("en-GB", {
    timeZone: zone,
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** The browser's time zone, or UTC when it does not say. */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Every IANA zone the browser knows, `zone` among them. */
export function zones(zone: string): string[] {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return known.includes(zone) ? known : [zone, ...known];
}
