// /docs: starts Swagger UI (loaded just before from /vendor/swagger-ui/) on /openapi.json. A file rather than an
// inline script, so that the page's Content-Security-Policy allows scripts from this origin only.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.specUrl,
  dom_id: "#swagger-ui",
  validatorUrl: null, // no calls to validator.swagger.io
  ...JSON.parse(root.dataset.config || "{}"),
});
