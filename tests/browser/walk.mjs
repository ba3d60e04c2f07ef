// What every user's walk through the dashboard shares: Debian's Chromium (never a downloaded browser),
// headless, a 1280x800 window, signing in, waiting for Streamlit to draw, screenshots, and one line per
// step on stdout (the test reads them, and answers some on stdin).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const TIMEOUT = 90_000; // generous: a loaded CI machine renders slowly
const VIEWPORT = { width: 1280, height: 800 };

/** Runs `walk(day)` in a fresh browser; a failure leaves `<failures>/<name>-failure.png` and exit code 1. */
export async function walkThrough(name, { shots, failures }, walk) {
  mkdirSync(shots, { recursive: true });
  mkdirSync(failures, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const day = new Day(context, page, shots);
  try {
    await walk(day);
    console.log("ok");
  } catch (error) {
    await day.page.screenshot({ path: join(failures, `${name}-failure.png`) }).catch(() => {});
    console.error(`failed: ${error.message}`);
    process.exitCode = 1;
  } finally {
    stdin.close();
    await browser.close();
  }
}

const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();

export class Day {
  constructor(context, page, shots) {
    this.context = context;
    this.page = page;
    this.shots = shots;
  }

  step(what) {
    console.log(`step: ${what}`);
  }

  /** Tell the test something (one line) and wait for its one-line answer. */
  async ask(line) {
    console.log(line);
    const answer = await lines.next();
    return answer.done ? "" : answer.value.trim();
  }

  /** Streamlit draws placeholders (stSkeleton) until an element's code and data are in: wait them out. */
  async settle(page = this.page) {
    await page.waitForFunction(() => !document.querySelector('[data-testid="stSkeleton"]'));
    await page.waitForTimeout(1000); // charts draw asynchronously once their placeholder is gone
  }

  async shot(name, page = this.page) {
    await this.settle(page);
    await page.screenshot({ path: join(this.shots, `${name}.png`) });
  }

  async signIn(url, email, password) {
    await this.page.goto(url);
    await this.page.getByRole("heading", { name: "Sign in to Écoute" }).waitFor();
    await this.page.getByRole("textbox", { name: "Email" }).fill(email);
    await this.page.getByRole("textbox", { name: "Password" }).fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }

  /** Reload, then wait for `heading`: a sign-in form instead fails the walk. */
  async reloadKeeps(heading, page = this.page) {
    await page.waitForTimeout(1500); // the cookie script runs once the page has drawn
    await page.reload();
    await page.getByRole("heading", { name: heading }).waitFor();
    await this.stillSignedIn(page);
  }

  async stillSignedIn(page = this.page) {
    if (await page.getByRole("heading", { name: /Sign in to|Connexion à/ }).count()) {
      throw new Error(`signed out at ${page.url()}`);
    }
  }

  /** A link opened in a new tab of the same browser (its cookies), as from an email or a colleague. */
  async newTab(url) {
    const tab = await this.context.newPage();
    tab.setDefaultTimeout(TIMEOUT);
    await tab.goto(url);
    return tab;
  }

  /** Wait until a text field holds `value` (React fills it in after the element shows). */
  async holds(field, value, what) {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      if ((await field.inputValue()) === value) return;
      await this.page.waitForTimeout(250);
    }
    throw new Error(`${what} does not hold ${JSON.stringify(value)}: ${JSON.stringify(await field.inputValue())}`);
  }

  nav(name) {
    return this.page.getByTestId("stSidebarNav").getByRole("link", { name, exact: true }).click();
  }

  async language(name) {
    await this.page.getByTestId("stSidebar").getByTestId("stSelectbox").first().click();
    await this.page.getByRole("option", { name, exact: true }).click();
  }

  /** The text a person reads in the page's main area and sidebar (icons' ligature names left out). */
  readableText(page = this.page) {
    return page.evaluate(() => {
      const parts = [];
      for (const area of document.querySelectorAll('[data-testid="stSidebar"], [data-testid="stMain"]')) {
        const copy = area.cloneNode(true);
        copy.querySelectorAll('[data-testid="stIconMaterial"], script, style').forEach((e) => e.remove());
        document.body.appendChild(copy); // innerText needs the copy laid out
        parts.push(copy.innerText);
        copy.remove();
      }
      return parts.join("\n");
    });
  }
}
