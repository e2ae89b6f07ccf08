// Talking to the site over HTTP: JSON in, JSON out, with the page's own cookies (the server
// checks the Origin header the browser adds to every write). Never throws for a bad answer:
// {ok, status, data}, where data.message is the server's own words, shown as sent.
import {words} from "./dom.js";

const say = words("http");

export async function requestJson(method, url, body, {timeoutMs = null} = {}) {
  const init = {method, credentials: "same-origin", headers: {}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (timeoutMs) init.signal = AbortSignal.timeout(timeoutMs);
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    const timedOut = err.name === "TimeoutError";
    return {ok: false, status: 0,
            data: {message: timedOut ? say("timeout", {seconds: timeoutMs / 1000}) : say("unreachable")}};
  }
  let data;
  try { data = await res.json(); } catch (_) { data = null; }  // an empty or HTML answer
  if (!data || typeof data !== "object") data = {};
  if (!res.ok && !data.message) data.message = say("status", {status: res.status});
  return {ok: res.ok, status: res.status, data};
}

export const postJson = (url, body = {}, options = {}) => requestJson("POST", url, body, options);
export const getJson = (url, options = {}) => requestJson("GET", url, undefined, options);

// The same, for code that reads better with exceptions: the server's message becomes the error's.
export async function callJson(method, url, body, options = {}) {
  const {ok, data} = await requestJson(method, url, body, options);
  if (!ok) throw new Error(data.message);
  return data;
}
