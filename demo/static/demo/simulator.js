// The phone simulator: a feature phone that speaks Africa's Talking's USSD and SMS formats to the
// real webhooks, polls its SMS inbox and the sandbox wallet's PIN prompts, and a virtual meter panel.
// Vanilla JS, no build step.
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("simulator-config").textContent);
  const $ = (id) => document.getElementById(id);
  const screenBody = $("screen-body");
  const input = $("phone-input");
  const errorLine = $("screen-error");

  // mode: idle | dialling | ussd-con | ussd-end | sms | prompt | busy | notice
  let mode = "idle";
  let session = null; // {id, code, inputs: []}
  let prompt = null; // the wallet prompt on screen
  const answered = new Set(); // prompt ids already answered from this page
  let lastInboxTop = null;
  let unread = 0;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function randomId(prefix) {
    const bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // -- the screen -------------------------------------------------------------------------------

  function show(newMode, text, options) {
    const opts = options || {};
    mode = newMode;
    screenBody.textContent = text;
    screenBody.dataset.mode = newMode;
    errorLine.textContent = opts.error || "";
    const wantsInput = opts.input !== undefined;
    input.hidden = !wantsInput;
    input.type = opts.password ? "password" : "text";
    input.maxLength = opts.maxLength || 160;
    input.placeholder = opts.placeholder || "";
    if (wantsInput) {
      input.value = opts.input;
      input.focus();
    }
    $("soft-left-label").textContent = opts.left || "";
    $("soft-right-label").textContent = opts.right || "";
  }

  function showIdle() {
    session = null;
    const note = unread ? `\n\n${unread} new message${unread > 1 ? "s" : ""}` : "";
    show("idle", `koronto mobile\n\nDial ${cfg.serviceCode}${note}`,
      { input: "", placeholder: "Dial a code", left: "SMS", right: "Clear" });
  }

  function notice(text) {
    show("notice", text, { left: "OK" });
  }

  function tick() {
    const now = new Date();
    $("clock").textContent = now.toTimeString().slice(0, 5);
  }

  // -- USSD: Africa's Talking form fields with cumulative `text`, or an operator's JSON gateway ------

  // The `json` gateway (docs/GATEWAYS.md): only the latest input, a message type and a sequence number;
  // the reply's continue flag is turned into the "CON "/"END " the screen logic below reads.
  async function jsonHop(kind) {
    session.sequence = (session.sequence || 0) + 1;
    const last = session.inputs.length ? session.inputs[session.inputs.length - 1] : session.code;
    const request = {
      sessionId: session.id, msisdn: cfg.phone, serviceCode: session.code, network: cfg.networkCode,
      messageType: kind, userData: kind === "initiation" ? session.code : last,
      sequence: String(session.sequence),
    };
    const response = await fetch(cfg.ussdUrl, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request),
    });
    if (!response.ok) return "";
    const reply = await response.json();
    return (reply.continueSession ? "CON " : "END ") + reply.message;
  }

  function jsonRelease() {
    // Hanging up mid-session: the gateway tells us the customer left.
    if (cfg.ussdGateway === "json" && session) jsonHop("release").catch(() => undefined);
  }

  async function ussdHop() {
    show("busy", "USSD code running...", { right: "Cancel" });
    let body;
    try {
      if (cfg.ussdGateway === "json") {
        body = await jsonHop(session.inputs.length ? "response" : "initiation");
      } else {
        const form = new URLSearchParams({
          sessionId: session.id,
          phoneNumber: cfg.phone,
          networkCode: cfg.networkCode,
          serviceCode: session.code,
          text: session.inputs.join("*"),
        });
        const response = await fetch(cfg.ussdUrl, { method: "POST", body: form });
        body = response.ok ? await response.text() : "";
      }
    } catch (err) {
      body = "";
    }
    if (!session) return; // hung up while waiting
    if (body.startsWith("CON ")) {
      show("ussd-con", body.slice(4), { input: "", placeholder: "Reply", left: "Send", right: "Cancel" });
    } else if (body.startsWith("END ")) {
      session = null;
      show("ussd-end", body.slice(4), { left: "OK" });
      takePendingPrompt();
    } else {
      session = null;
      show("ussd-end", "Connection problem or invalid MMI code.", { left: "OK" });
    }
  }

  function dial(code) {
    if (!/^[*#][0-9*#]*#$/.test(code)) {
      notice(`Calls are not part of this demo.\nDial ${cfg.serviceCode}`);
      return;
    }
    session = { id: randomId("ATUid_"), code: code, inputs: [] };
    ussdHop();
  }

  function ussdReply(value) {
    if (!session) return showIdle();
    session.inputs.push(value);
    ussdHop();
  }

  // -- SMS: Africa's Talking inbound callback --------------------------------------------------

  function smsDate() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  async function smsSend(text) {
    if (!text.trim()) return;
    const form = new URLSearchParams({
      from: cfg.phone, to: cfg.shortcode, text: text, date: smsDate(),
      id: randomId("ATSMSid_"), networkCode: cfg.networkCode,
    });
    show("busy", "Sending...", {});
    let ok = false;
    try {
      ok = (await fetch(cfg.smsUrl, { method: "POST", body: form })).ok;
    } catch (err) {
      ok = false;
    }
    notice(ok ? `Message sent to ${cfg.shortcode}.` : "Message not sent. Try again.");
  }

  function composeSms() {
    show("sms", `New message\nTo: ${cfg.shortcode}`,
      { input: "", placeholder: "BUY 04123456784 500", left: "Send", right: "Back" });
  }

  // -- the wallet's PIN prompt -----------------------------------------------------------------

  let waitingPrompts = [];

  function showPrompt(p) {
    prompt = p;
    show("prompt", p.texts.ask,
      { input: "", password: true, maxLength: p.pin_length, placeholder: "PIN", left: "OK", right: "Cancel" });
  }

  function takePendingPrompt() {
    // A handset busy in a USSD session cannot show the push (that is why the menu ends first).
    if (["busy", "ussd-con", "prompt", "sms"].includes(mode)) return;
    const next = waitingPrompts.find((p) => !answered.has(p.id));
    if (next) showPrompt(next);
  }

  async function answerPrompt(approve) {
    const p = prompt;
    if (!p) return;
    const pin = input.value;
    if (approve && !new RegExp(`^\\d{${p.pin_length}}$`).test(pin)) {
      showPrompt(p);
      errorLine.textContent = p.texts.pin_hint;
      return;
    }
    answered.add(p.id);
    prompt = null;
    show("busy", "Processing...", {});
    const url = `${cfg.walletUrl}${encodeURIComponent(p.id)}/${approve ? "approve" : "decline"}/`;
    let answer = "error";
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ phone: cfg.phone, pin: approve ? pin : undefined }),
      });
      answer = response.ok ? (await response.json()).answer : "error";
    } catch (err) {
      answer = "error";
    }
    // The prompt's words come from the server, in the payer's language (demo/texts.py).
    const texts = { ...p.texts, error: "The request could not be completed." };
    notice(texts[answer] || texts.error);
  }

  // -- keys ------------------------------------------------------------------------------------

  function leftSoft() {
    const value = input.value.trim();
    if (mode === "idle") return value ? dial(value) : composeSms();
    if (mode === "ussd-con") return ussdReply(input.value);
    if (mode === "sms") return smsSend(input.value);
    if (mode === "prompt") return answerPrompt(true);
    if (mode === "ussd-end" || mode === "notice") {
      showIdle();
      takePendingPrompt();
    }
    return undefined;
  }

  function rightSoft() {
    if (mode === "idle") {
      input.value = input.value.slice(0, -1);
      return;
    }
    if (mode === "prompt") return answerPrompt(false);
    showIdle();
  }

  function callKey() {
    if (mode === "idle") {
      const value = input.value.trim();
      if (value) dial(value);
      return;
    }
    leftSoft();
  }

  function endKey() {
    if (mode === "prompt") return answerPrompt(false);
    if (mode === "ussd-con") jsonRelease();
    showIdle();
    takePendingPrompt();
  }

  function pressKey(key) {
    if (input.hidden) {
      if (mode === "ussd-end" || mode === "notice") {
        showIdle();
        input.value = key;
      }
      return;
    }
    if (input.value.length < input.maxLength) input.value += key;
    input.focus();
  }

  document.querySelectorAll("#keypad .key").forEach((button) => {
    button.addEventListener("click", () => pressKey(button.dataset.key));
  });
  $("soft-left").addEventListener("click", leftSoft);
  $("soft-right").addEventListener("click", rightSoft);
  $("call").addEventListener("click", callKey);
  $("end").addEventListener("click", endKey);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      leftSoft();
    } else if (event.key === "Escape") {
      event.preventDefault();
      endKey();
    }
  });

  // -- polling: inbox and wallet prompts (the wallet poll is also the page's heartbeat) --------

  const TOKEN_RE = /\b(\d{4}[ -]?){4}\d{4}\b/g;

  function renderInbox(messages) {
    const list = $("inbox");
    $("inbox-empty").hidden = messages.length > 0;
    const top = messages.length ? messages[0].id : null;
    if (lastInboxTop !== null && top !== null && top !== lastInboxTop) {
      const fresh = messages.findIndex((m) => m.id === lastInboxTop);
      unread += fresh === -1 ? messages.length : fresh;
      if (mode === "idle") showIdle();
    }
    if (top === lastInboxTop && list.childElementCount === messages.length) return;
    lastInboxTop = top;
    list.replaceChildren(...messages.map((m) => {
      const item = document.createElement("li");
      item.dataset.testid = "sms";
      item.className = "sms";
      const meta = document.createElement("div");
      meta.className = "sms-meta";
      meta.textContent = `From ${cfg.shortcode} \u00b7 ${new Date(m.at).toLocaleTimeString()}`;
      const text = document.createElement("div");
      text.className = "sms-text";
      text.textContent = m.text;
      item.append(meta, text);
      const tokens = m.text.match(TOKEN_RE);
      if (tokens) {
        const use = document.createElement("button");
        use.type = "button";
        use.className = "link";
        use.textContent = "copy token to meter";
        use.addEventListener("click", () => {
          $("meter-token").value = tokens[tokens.length - 1];
          $("meter-token").focus();
        });
        item.append(use);
      }
      return item;
    }));
  }

  async function poll() {
    const query = `?phone=${encodeURIComponent(cfg.phone)}`;
    try {
      const [inbox, wallet] = await Promise.all([
        fetch(cfg.inboxUrl + query).then((r) => r.json()),
        fetch(cfg.walletUrl + query).then((r) => r.json()),
      ]);
      renderInbox(inbox.messages || []);
      waitingPrompts = (wallet.prompts || []).filter((p) => !answered.has(p.id));
      takePendingPrompt();
    } catch (err) {
      // The server restarting: try again on the next tick.
    }
  }

  // -- the virtual meter -------------------------------------------------------------------------

  function meterUrl(suffix) {
    return cfg.meterUrl.replace("DRN", encodeURIComponent($("meter-select").value)) + (suffix || "");
  }

  async function meterRefresh() {
    if (!$("meter-select").value) return;
    try {
      const state = await (await fetch(meterUrl())).json();
      $("meter-credit").textContent = state.credit_kwh;
    } catch (err) {
      $("meter-credit").textContent = "-";
    }
    $("meter-display").textContent = "\u00a0";
    $("meter-display").className = "lcd-display";
  }

  async function meterEnter(event) {
    event.preventDefault();
    const token = $("meter-token").value;
    const response = await fetch(meterUrl("token/"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ token: token }),
    });
    const data = await response.json();
    if (!response.ok) {
      $("meter-message").textContent = data.error || "The meter did not answer.";
      return;
    }
    $("meter-credit").textContent = data.credit_kwh;
    $("meter-display").textContent = data.display;
    $("meter-display").className = `lcd-display ${data.accepted ? "ok" : "refused"}`;
    $("meter-message").textContent = data.message;
    $("meter-token").value = "";
  }

  $("meter-select").addEventListener("change", meterRefresh);
  $("meter-form").addEventListener("submit", meterEnter);

  tick();
  setInterval(tick, 10000);
  showIdle();
  meterRefresh();
  poll();
  setInterval(poll, cfg.pollMs);
})();
