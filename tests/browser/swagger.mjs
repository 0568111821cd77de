// Opens Swagger UI in headless Chromium, authorizes with a bearer token, executes
// GET /api/v1/committees and checks the answer is 200; saves a screenshot.
// Usage: node swagger.mjs <base url> <token> <screenshot path>
import { chromium } from "playwright-core";

const [base, token, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  await page.goto(`${base}/swagger-ui/`);
  await page.locator(".auth-wrapper button.authorize").first().click();
  await page.locator(".modal-ux input[type=text]").first().fill(token);
  await page.locator(".modal-ux .auth-btn-wrapper button.authorize").click();
  await page.locator(".modal-ux .auth-btn-wrapper button.btn-done").click();
  const operation = page.locator("#operations-committees-committees_list");
  await operation.locator(".opblock-summary").click();
  await operation.locator("button.try-out__btn").click();
  await operation.locator("button.execute").click();
  const status = operation.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor({ timeout: 15000 });
  const code = (await status.innerText()).trim();
  await operation.scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(`status ${code}`);
  console.log(`screenshot ${screenshot}`);
  if (code !== "200") process.exit(1);
} finally {
  await browser.close();
}
