// The community manager's day: signs in (the Inbox opens on what needs attention), a reload keeps the
// session; a mention collected while the Inbox is open is announced there without a click; triage with
// the keyboard (next, assign to me, close, previous, open the original, `?` for the list); the mention's
// link opened in a new tab lands on it, where a reply written from the keyboard is posted, shows in the
// mention's history and on the customer's CRM record.
// The test answers "ready for a new mention" with "collected" once it has indexed one.
// Usage: node tests/browser/community_manager.mjs <url> <screenshots> <failures> <email> <password> <live s>
import { walkThrough } from "./walk.mjs";

const [url, shots, failures, email, password, live] = process.argv.slice(2);
const REPLY = "@julie@mastodon.example Bonjour Julie, un technicien vous appelle ce soir.";
const card = (page, id) => page.locator(`.st-key-inbox_item_${id}`);
const cardIds = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('[class*="st-key-inbox_item_"]')].map(
      (c) => c.className.match(/st-key-inbox_item_(\S+)/)[1],
    ),
  );
const focusedCard = (page) =>
  page.evaluate(() => {
    const card = document.activeElement?.closest('[class*="st-key-inbox_item_"]');
    return card ? card.className.match(/st-key-inbox_item_(\S+)/)[1] : null;
  });

await walkThrough("community-manager", { shots, failures }, async (day) => {
  const page = day.page;
  day.step("sign in: the Inbox, needing attention first");
  await day.signIn(url, email, password);
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  await page.getByText(/needing attention first\.$/).waitFor();
  await day.reloadKeeps("Inbox");
  await page.getByText(/needing attention first\.$/).waitFor();

  day.step("a new mention shows in the open Inbox without a click");
  await page.getByText("Matching mentions").waitFor();
  await day.settle();
  const id = await day.ask("ready for a new mention");
  const collected = Date.now();
  await page.getByText("1 new mention since this list was drawn.").waitFor({ timeout: (Number(live) + 3) * 1000 });
  console.log(`new mention shown after ${((Date.now() - collected) / 1000).toFixed(1)} s`);
  await page.getByRole("button", { name: "Show them" }).click();
  await card(page, id).waitFor();

  day.step("keyboard triage: ? lists the keys");
  await day.settle();
  await page.keyboard.press("?");
  await page.getByText("assign the mention to me").waitFor();
  await day.shot("cm-shortcuts");
  await page.keyboard.press("?");
  await page.getByText("assign the mention to me").waitFor({ state: "hidden" });

  const [first, second] = await cardIds(page);
  day.step("j, a: the first mention assigned to me");
  await page.keyboard.press("j");
  if ((await focusedCard(page)) !== first) throw new Error("j did not move to the first mention");
  await page.keyboard.press("a");
  await card(page, first).getByRole("button", { name: /^Triage · .* · Camille Roux$/ }).waitFor();
  day.step("j, c: the second one closed");
  await page.keyboard.press("j");
  if ((await focusedCard(page)) !== second) throw new Error("j did not move to the second mention");
  await page.keyboard.press("c");
  await card(page, second).getByRole("button", { name: /^Triage · closed/ }).waitFor();
  await day.shot("cm-keyboard-triage");
  day.step("k, o: back to the first, its original in a new tab");
  await page.keyboard.press("k");
  if ((await focusedCard(page)) !== first) throw new Error("k did not move back to the first mention");
  const original = await card(page, first).getByTestId("stLinkButton").locator("a").getAttribute("href");
  // The post's own site is out of reach here: the browser is answered in its place.
  await day.context.route(original, (route) => route.fulfill({ contentType: "text/html", body: "the post" }));
  const [opened] = await Promise.all([day.context.waitForEvent("page"), page.keyboard.press("o")]);
  await opened.waitForURL(original);
  await opened.close();
  console.log(`triaged: ${JSON.stringify({ assigned: first, closed: second })}`);

  day.step("the new mention's link in a new tab: reply from the keyboard");
  const tab = await day.newTab(`${url}/?mention=${encodeURIComponent(id)}`);
  await tab.getByRole("heading", { name: "Inbox" }).waitFor();
  await day.stillSignedIn(tab);
  await card(tab, id).waitFor();
  if ((await cardIds(tab))[0] !== id) throw new Error("the linked mention is not first");
  await day.settle(tab);
  await tab.keyboard.press("j");
  await tab.keyboard.press("r");
  const box = card(tab, id).locator(`[class*="st-key-reply_text_"] textarea`);
  await box.waitFor();
  await tab.waitForFunction(() => document.activeElement?.closest(`[class*="st-key-reply_text_"]`));
  await tab.keyboard.press("Control+A");
  await tab.keyboard.type(REPLY); // j, a, c, o typed here do nothing but write
  await tab.keyboard.press("Escape"); // leaves the field: the text is kept
  await card(tab, id).getByRole("button", { name: "Send" }).click();
  await tab.getByText("Reply posted on Mastodon.").waitFor();
  await card(tab, id).getByText(/posted · written by Camille Roux/).waitFor();
  await card(tab, id).getByText(/ · Camille Roux · Reply: — → /).waitFor(); // the mention's history
  await day.shot("cm-reply", tab);

  day.step("the reply on the customer's CRM record");
  await card(tab, id).getByTestId("stPageLink").first().click();
  await tab.getByRole("heading", { name: "Customers" }).waitFor();
  await tab.getByText("CRM record").waitFor();
  await tab.getByText("mastodon reply").first().waitFor({ state: "attached" });
  await tab.close();
});
