// Building the page from elements (never from HTML text: what Calendly or a visitor wrote is
// always text), and telling the visitor what happened.

type Child = Node | string | null | undefined | false;
type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** An element with attributes (`on…` functions become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child) {
      element.append(child);
    }
  }
  return element;
}

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) {
    throw new Error(`#${id} is missing from the page`);
  }
  return element;
}

/** Replaces the view with `content`, its first heading focused (for keyboards and screen readers). */
export function show(...content: (Child | Child[])[]): void {
  const view = byId("view");
  view.replaceChildren(...content.flat().filter((c): c is Node | string => Boolean(c)));
  const heading = view.querySelector("h1, h2");
  if (heading instanceof HTMLElement) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

/** Shows an error in words (announced at once), with what to do about it. */
export function notify(text: string, ...actions: Node[]): void {
  const notice = byId("notice");
  notice.replaceChildren(h("p", {}, text), ...actions);
  notice.classList.add("shown");
}

export function clearNotice(): void {
  const notice = byId("notice");
  notice.replaceChildren();
  notice.classList.remove("shown");
}

/** Says something politely (for screen readers), without moving focus. */
export function announce(text: string): void {
  byId("status").textContent = text;
}

export function element(id: string): HTMLElement {
  return byId(id);
}
