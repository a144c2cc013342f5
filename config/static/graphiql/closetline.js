// GraphiQL for Closetline. Requests go to this page's URL; subscriptions to the same path over
// graphql-transport-ws. The endpoint authenticates by bearer token only, so the Authorization
// header typed in the Headers tab is sent with every HTTP request and, because browsers cannot
// set headers on a WebSocket, as `{token}` in connection_init (one socket per token).
(function (GraphiQL, React, ReactDOM, graphqlWs, GraphiQLPluginExplorer) {
  "use strict";
  var endpoint = window.location.pathname;
  var socketUrl = window.location.origin.replace(/^http/, "ws") + endpoint;
  var sockets = {};

  function bearerToken(headers) {
    for (var name in headers || {}) {
      if (name.toLowerCase() === "authorization") {
        return String(headers[name]).replace(/^Bearer\s+/i, "").trim();
      }
    }
    return "";
  }

  function socketFor(token) {
    if (!sockets[token]) {
      sockets[token] = graphqlWs.createClient({
        url: socketUrl,
        lazy: true,
        connectionParams: token ? { token: token } : {},
      });
    }
    return sockets[token];
  }

  function subscribe(client, params) {
    // An async iterator of the operation's results, as GraphiQL expects from a fetcher.
    var queue = [], waiting = null, finished = false, failure = null;
    function push(item) {
      if (waiting) { var resolve = waiting; waiting = null; resolve(item); } else { queue.push(item); }
    }
    var dispose = client.subscribe(params, {
      next: function (value) { push({ value: value, done: false }); },
      error: function (error) { failure = error; push(null); },
      complete: function () { finished = true; push({ value: undefined, done: true }); },
    });
    function next() {
      if (queue.length) { var item = queue.shift(); return item ? Promise.resolve(item) : Promise.reject(failure); }
      if (finished) { return Promise.resolve({ value: undefined, done: true }); }
      if (failure) { return Promise.reject(failure); }
      return new Promise(function (resolve) { waiting = resolve; }).then(function (item) {
        return item || Promise.reject(failure);
      });
    }
    var iterator = {
      next: next,
      return: function () { dispose(); return Promise.resolve({ value: undefined, done: true }); },
    };
    iterator[Symbol.asyncIterator] = function () { return iterator; };
    return iterator;
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    var isSubscription = /^\s*subscription\b/m.test(params.query || "") &&
      (!params.operationName || new RegExp("subscription\\s+" + params.operationName + "\\b").test(params.query));
    if (isSubscription) {
      return subscribe(socketFor(bearerToken(headers)), params);
    }
    return fetch(endpoint, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, headers),
      body: JSON.stringify(params),
    }).then(function (response) { return response.json(); });
  }

  function Page() {
    var state = React.useState(undefined);
    var explorer = GraphiQLPluginExplorer.useExplorerPlugin({ query: state[0], onEdit: state[1] });
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      query: state[0],
      onEditQuery: state[1],
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: true,
    });
  }

  ReactDOM.render(React.createElement(Page), document.getElementById("editor"));
})(window.GraphiQL, window.React, window.ReactDOM, window.graphqlWs, window.GraphiQLPluginExplorer);
