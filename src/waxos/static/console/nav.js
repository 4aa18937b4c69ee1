// nav.js: move between console pages without reloading (the shell listens for popstate).

/** Follow `href` inside the console; a modified click (new tab, …) keeps the browser's behaviour. */
export function navigate(event, href) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  history.pushState(null, "", href);
  dispatchEvent(new PopStateEvent("popstate"));
}
