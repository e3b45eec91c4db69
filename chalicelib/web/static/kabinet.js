// Small enhancements only: every page works without this file.
// The error summary takes focus, so a screen reader announces it and the keyboard starts there (GOV.UK pattern).
const summary = document.querySelector("[data-focus]");
if (summary) summary.focus();
