// Signs in, triages a mention, sees it change, opens a customer, visits every other page;
// screenshots each page.
// Then: a reload keeps the session and the language; a customer's link opened in a new tab lands on it;
// a mention collected while the Inbox is open is counted there without a click (the caller indexes it
// when this script prints "ready for a new mention").
// Usage: node tests/browser/dashboard.mjs <dashboard url> <screenshot folder> <email> <password> <customer id>
// Debian's Chromium only (never a downloaded browser), headless.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [url, shots, email, password, customerId, mentionId] = process.argv.slice(2);
const TIMEOUT = 90_000; // generous: a loaded CI machine renders slowly
mkdirSync(shots, { recursive: true });

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
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
// Streamlit draws placeholders (stSkeleton) until an element's code and data are in: wait them out.
const settle = async () => {
  await page.waitForFunction(() => !document.querySelector('[data-testid="stSkeleton"]'));
  await page.waitForTimeout(1000); // charts draw asynchronously once their placeholder is gone
};
const shot = async (name) => {
  await settle();
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
};
const step = (what) => console.log(`step: ${what}`);
const nav = (name) => page.getByTestId("stSidebarNav").getByRole("link", { name, exact: true }).click();

try {
  step("sign in");
  await page.goto(url);
  await page.getByRole("heading", { name: "Sign in to Écoute" }).waitFor();
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByRole("textbox", { name: "Password" }).fill(password);
  await shot("sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await page.getByText("Matching mentions").waitFor();
  await shot("inbox");

  step("reload: still signed in, in the language chosen");
  await page.getByTestId("stSidebar").getByTestId("stSelectbox").first().click();
  await page.getByRole("option", { name: "Français", exact: true }).click();
  await page.getByRole("heading", { name: "Boîte de réception" }).waitFor();
  await page.waitForTimeout(1500); // the cookie script runs once the page has drawn
  await page.reload();
  await page.getByRole("heading", { name: "Boîte de réception" }).waitFor();
  if (await page.getByRole("heading", { name: /Sign in|Connexion/ }).count()) throw new Error("signed out by a reload");
  await page.getByTestId("stSidebar").getByTestId("stSelectbox").first().click();
  await page.getByRole("option", { name: "English", exact: true }).click();
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await page.waitForTimeout(1500);
  await page.reload();
  await page.getByText("Matching mentions").waitFor();

  step("a customer's link in a new tab lands on the customer");
  const tab = await context.newPage();
  tab.setDefaultTimeout(TIMEOUT);
  await tab.goto(`${url}/customers?customer=${encodeURIComponent(customerId)}`);
  await tab.getByRole("heading", { name: "Customers" }).waitFor();
  await tab.getByText("CRM record").waitFor();
  if (await tab.getByRole("heading", { name: "Sign in to Écoute" }).count()) throw new Error("asked to sign in");
  await tab.screenshot({ path: join(shots, "deep-link.png") });
  step("a mention's link (beyond the first page) lands on it, first in the list");
  await tab.goto(`${url}/?mention=${encodeURIComponent(mentionId)}`);
  await tab.getByRole("heading", { name: "Inbox" }).waitFor();
  await tab.getByText(/^Showing 51 of/).waitFor(); // the 50 of the first page and the one linked
  await tab.screenshot({ path: join(shots, "mention-link.png") });
  await tab.close();

  step("a new mention is counted in the open Inbox without a click");
  await page.getByText("Matching mentions").waitFor();
  await page.waitForTimeout(1000);
  console.log("ready for a new mention");
  await page.getByText("1 new mention since this list was drawn.").waitFor({ timeout: 40_000 });
  await shot("inbox-live");
  step("a mention a colleague assigned to me is announced");
  await page.getByText("1 mention newly assigned to you.").waitFor({ timeout: 40_000 });
  await page.getByText("Assigned to you: 1 open (1 new)").waitFor({ timeout: 40_000 });

  step("triage the newest mention");
  await page.getByTestId("stSidebar").getByText("Newest first", { exact: true }).click();
  await page.getByText(/newest first\.$/).waitFor();
  // Each card has a "Triage · <status>" button that opens its form; only opened forms are built.
  await page.getByRole("button", { name: /Triage · new/ }).first().click();
  const form = page.getByTestId("stForm").first();
  await form.getByTestId("stSelectbox").first().click();
  await page.getByRole("option", { name: "answered", exact: true }).click();
  await form.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  step("see it change");
  await page.getByRole("button", { name: /Triage · answered/ }).first().waitFor();
  await page.getByText("Status: answered").first().waitFor();
  await page.getByText("new → answered").first().waitFor(); // the history line
  await shot("inbox-triaged");

  step("open a customer from a mention");
  await page.getByTestId("stSidebar").getByText("Customers only").click();
  const customerLink = page.getByTestId("stPageLink").first();
  await customerLink.waitFor();
  await customerLink.click();
  await page.getByText("CRM record").waitFor();
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await shot("customer");

  step("insights");
  await nav("Insights");
  await page.getByRole("heading", { name: "Insights" }).waitFor();
  await page.getByText("Sentiment over time").waitFor();
  await page.getByTestId("stVegaLiteChart").first().waitFor();
  await shot("insights");

  step("alerts");
  await nav("Alerts");
  await page.getByRole("heading", { name: "Alerts" }).waitFor();
  // The sample's alerts go to the rules' recipients and account owners, not to the admin: show all.
  await settle();
  const everyone = page.getByText("All alerts", { exact: true });
  if (await everyone.count()) {
    await everyone.click();
    await page.getByText("No alert for you.").waitFor({ state: "hidden" });
  }
  await shot("alerts");

  step("admin");
  await nav("Admin");
  await page.getByRole("heading", { name: "Sources and their health" }).waitFor();
  await page.getByRole("heading", { name: "Users and roles" }).waitFor();
  await shot("admin");

  step("review");
  await nav("Review & data quality");
  await page.getByRole("heading", { name: "Customer links and CRM data quality" }).waitFor();
  await page.getByRole("tab", { name: "Data quality" }).click();
  await page.getByText("Records with a problem").waitFor();
  await shot("review");
  console.log("ok");
} catch (error) {
  await page.screenshot({ path: join(shots, "failure.png") }).catch(() => {});
  console.error(`failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
