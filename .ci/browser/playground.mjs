// The playground in headless Chromium: move the clock, name a small step
// as a participant, see the follow-up repeat it, tap "Did it", see the message show it while HR's numbers stay as they were
// (they are the last composed week's), then see them once a week is composed.
//
// node playground.mjs BASE_URL SHOTS
import { chromium } from "playwright-core";

const [base, shots] = process.argv.slice(2);
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  await page.goto(`${base}/playground`);
  check(await page.isVisible("text=Nothing yet"), "the playground starts before the first session");
  await page.click("button:has-text('+1 day')");
  await page.click("button:has-text('+1 day')");
  check(await page.isVisible("text=one small step"), "a day after the session the nudge has arrived");
  const before = await page.textContent("aside dl");
  await page.fill("form.step input[name=text]", "Ask Eva to lead the stand-up");
  await page.click("form.step button");
  check((await page.textContent("section")).includes("Your step: *Ask Eva to lead the stand-up*"), "the named step shows on the nudge");
  const after = await page.textContent("aside dl");
  check(after === before, "HR's figures do not move with one person's step");
  // Friday 16:00: the follow-up repeats the step; one tap answers it.
  await page.click("button:has-text('+1 day')");
  await page.click("button:has-text('+1 day')");
  await page.click("button:has-text('+1 day')");
  check((await page.textContent("section")).includes("You planned: *Ask Eva to lead the stand-up*"), "the follow-up repeats the step back");
  await page.click("button:has-text('Did it')");
  check(await page.isVisible("text=Recorded"), "the tapped message shows what was recorded");
  await page.screenshot({ path: `${shots}/playground.png`, fullPage: true });
  await page.click("button:has-text('Open the home tab')");
  check((await page.textContent("#home")).includes("Leadership Academy 2026"), "the person's home tab opens");
  await page.click("button:has-text('+1 week')");
  check((await page.textContent("aside")).includes("Momentum digest"), "the weekly digest reached the sponsors' channel");
  check((await page.textContent("#health-week")).includes("the last composed week"), "HR's figures are the composed week's");
  check(/\d+%/.test(await page.textContent("#engagement")), "HR sees the composed week's engagement");
  await page.screenshot({ path: `${shots}/playground-digest.png`, fullPage: true });
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} playground checks failed`);
  process.exit(1);
}
console.log("all playground checks passed");
