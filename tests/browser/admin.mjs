// The admin's day: signs in, a reload keeps the session and the language; a customer's and a mention's
// links opened in a new tab land on them; a mention collected while the Inbox is open is counted there
// without a click, and one a colleague assigns is announced; triages the newest mention and sees it change;
// opens a customer from a mention; visits every other page.
// The test answers "ready for a new mention" with "collected" once it has indexed one (and assigned
// another to the admin).
// Usage: node tests/browser/admin.mjs <url> <screenshots> <failures> <email> <password> <customer id> <mention id>
import { walkThrough } from "./walk.mjs";

const [url, shots, failures, email, password, customerId, mentionId] = process.argv.slice(2);

await walkThrough("admin", { shots, failures }, async (day) => {
  const page = day.page;
  day.step("sign in");
  await page.goto(url);
  await page.getByRole("heading", { name: "Sign in to Écoute" }).waitFor();
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByRole("textbox", { name: "Password" }).fill(password);
  await day.shot("sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await page.getByText("Matching mentions").waitFor();
  await day.shot("inbox");

  day.step("reload: still signed in, in the language chosen");
  await day.language("Français");
  await page.getByRole("heading", { name: "Boîte de réception" }).waitFor();
  await day.reloadKeeps("Boîte de réception");
  await day.language("English");
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await day.reloadKeeps("Inbox");
  await page.getByText("Matching mentions").waitFor();

  day.step("a customer's link in a new tab lands on the customer");
  const tab = await day.newTab(`${url}/customers?customer=${encodeURIComponent(customerId)}`);
  await tab.getByRole("heading", { name: "Customers" }).waitFor();
  await tab.getByText("CRM record").waitFor();
  await day.stillSignedIn(tab);
  await day.shot("deep-link", tab);
  day.step("a mention's link (beyond the first page) lands on it, first in the list");
  await tab.goto(`${url}/?mention=${encodeURIComponent(mentionId)}`);
  await tab.getByRole("heading", { name: "Inbox" }).waitFor();
  await tab.getByText(/^Showing 51 of/).waitFor(); // the 50 of the first page and the one linked
  await tab.close();

  day.step("a new mention is counted in the open Inbox without a click");
  await page.getByText("Matching mentions").waitFor();
  await day.settle();
  await day.ask("ready for a new mention");
  await page.getByText("1 new mention since this list was drawn.").waitFor({ timeout: 40_000 });
  await day.shot("inbox-live");
  day.step("a mention a colleague assigned to me is announced");
  await page.getByText("1 mention newly assigned to you.").waitFor({ timeout: 40_000 });
  await page.getByText("Assigned to you: 1 open (1 new)").waitFor({ timeout: 40_000 });

  day.step("triage the newest mention");
  await page.getByTestId("stSidebar").getByText("Newest first", { exact: true }).click();
  await page.getByText(/newest first\.$/).waitFor();
  // Each card has a "Triage · <status>" button that opens its form; only opened forms are built.
  await page.getByRole("button", { name: /Triage · new/ }).first().click();
  const form = page.getByTestId("stForm").first();
  await form.getByTestId("stSelectbox").first().click();
  await page.getByRole("option", { name: "answered", exact: true }).click();
  await form.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  day.step("see it change");
  await page.getByRole("button", { name: /Triage · answered/ }).first().waitFor();
  await page.getByText("Status: answered").first().waitFor();
  await page.getByText("new → answered").first().waitFor(); // the history line
  await day.shot("inbox-triaged");

  day.step("open a customer from a mention");
  await page.getByTestId("stSidebar").getByText("Customers only").click();
  const customerLink = page.getByTestId("stPageLink").first();
  await customerLink.waitFor();
  await customerLink.click();
  await page.getByText("CRM record").waitFor();
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await day.shot("customer");

  day.step("insights");
  await day.nav("Insights");
  await page.getByRole("heading", { name: "Insights" }).waitFor();
  await page.getByText("Sentiment over time").waitFor();
  await page.getByTestId("stVegaLiteChart").first().waitFor(); // its picture is the marketer's

  day.step("alerts");
  await day.nav("Alerts");
  await page.getByRole("heading", { name: "Alerts" }).waitFor();
  // The sample's alerts go to the rules' recipients and account owners, not to the admin: show all.
  await day.settle();
  const everyone = page.getByText("All alerts", { exact: true });
  if (await everyone.count()) {
    await everyone.click();
    await page.getByText("No alert for you.").waitFor({ state: "hidden" });
  }
  await day.shot("alerts");

  day.step("admin");
  await day.nav("Admin");
  await page.getByRole("heading", { name: "Sources and their health" }).waitFor();
  await page.getByRole("heading", { name: "Users and roles" }).waitFor();
  await day.shot("admin");

  day.step("review");
  await day.nav("Review & data quality");
  await page.getByRole("heading", { name: "Customer links and CRM data quality" }).waitFor();
  await page.getByRole("tab", { name: "Data quality" }).click();
  await page.getByText("Records with a problem").waitFor();
  await day.shot("review");
});
