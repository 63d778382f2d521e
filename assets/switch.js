/* The explorer's indicator switch, made quick for a slow tablet (issue 16; bench/tablet.py measures it).
 *
 * 1. The touch picker: a native <select data-for="ID"> beside Dash's searchable dropdown ID, shown instead
 *    of it where the primary pointer is coarse (assets/style.css, atlas/web/components.py). A choice sets the
 *    dropdown's value once through Dash's own set_props, so the page's callbacks (and the server's rights
 *    checks) answer it as they answer the dropdown, which took two renderer cycles per choice.
 * 2. Sent ahead, painted first: with the choice, the map's request leaves at once, built from the map
 *    callback's last request with the page's current values (Dash's store) and the new value; its answer's
 *    colours are painted (`ortsatlas.map.paint`, assets/map.js) and only then is the value handed to Dash.
 *    Dash's own request is then the very same request and gets that answer; its renderer work (~250 ms at
 *    4x CPU, which held up the answer's arrival when it ran first) comes after the recoloured map. The
 *    words (legend, title) follow as before. An answer with new geometry, a failed or slow one (HOLD_MS),
 *    or a request that cannot be built leaves everything to Dash.
 * 2a. Asked while the list is open: when a touch picker gets the focus (a tap opens its list), the map's
 *    answers for each of its other options are asked at once, and a choice takes its answer from there.
 *    On mobile data one round trip alone (165 ms on DevTools' Fast 4G) was most of the switch. Only while
 *    the map's answers are small (PREFETCH_MAX_BYTES each, the last one measured) and the list short;
 *    each is an ordinary request the server answers with the viewer's rights; forgotten after a choice.
 * 3. Any map answer Dash asked for (the desktop dropdown's too) is painted as it arrives, when it answers
 *    the newest map request and keeps the geometry; Dash applies the same colours after its own work. A map
 *    drawn from tiles is painted too (assets/tiles.js, each loaded tile once; Dash's same colours later cost
 *    no second paint).
 * 4. The desktop dropdown sends ahead too (issue 19: at 11,000 areas Dash's renderer spent ~210-370 ms per
 *    switch before the map's answer was even painted). Dash 4's dcc.Dropdown lists its options as
 *    <label role=option> around a radio input carrying the value, in a popover the dropdown's button names
 *    (aria-controls). A press on an option (pointerdown), its click, Enter on an option or in the search box
 *    sends the map's request for that value at once; Dash's own request, when it comes, is the same request
 *    and takes that answer, which is painted as in 3. as it arrives: only because Dash asked for it (so a
 *    press that does not become a choice paints nothing), and only the newest map request's answer.
 * The server sees the same requests as without this file; nothing here decides what a viewer may see.
 * Loaded after map.js (assets load by name), so it wraps map.js's fetch, which keeps answers for meeting mode.
 */
window.ortsatlas = window.ortsatlas || {};
(function (ns) {
  'use strict';
  const MAP_OUTPUT = '.ex-geojson.hideout.';
  let template = null;  // the map callback's last request as Dash sent it: {url, init, body}
  let early = null;     // the request sent ahead of Dash: {key, answer, at}
  const AHEAD_MS = 2000;  // an early request Dash has not matched by then is forgotten
  let newest = 0;       // map requests Dash has sent; only the newest one's answer is painted early
  let answerBytes = Infinity;  // the size of the last map answer read here
  const PREFETCH_MAX_BYTES = 20000, PREFETCH_MAX_OPTIONS = 40, PREFETCH_MS = 30000;
  let prefetched = new Map();  // request key -> its answer (a promise), asked while the list was open
  let prefetchedAt = 0;

  // A prop's current value in Dash's store (undefined if the component is not on the page).
  function propOf(state, id, property) {
    const path = state.paths && state.paths.strs && state.paths.strs[id];
    if (!path) { return undefined; }
    let node = state.layout;
    for (let i = 0; i < path.length && node; i += 1) { node = node[path[i]]; }
    return node && node.props ? node.props[property] : undefined;
  }

  // The map's request as Dash will send it once `id` holds `value`; null when that cannot be told.
  function requestFor(id, value) {
    if (!template || !window.store || !window.store.getState) { return null; }
    const state = window.store.getState();
    const body = JSON.parse(JSON.stringify(template.body));
    const entries = (body.inputs || []).concat(body.state || []);
    if (entries.some(function (e) { return Array.isArray(e) || !e || typeof e.id !== 'string'; })) { return null; }
    entries.forEach(function (e) {
      const v = e.id === id && e.property === 'value' ? value : propOf(state, e.id, e.property);
      if (v === undefined) { delete e.value; } else { e.value = v; }
    });
    body.changedPropIds = [id + '.value'];
    if ('parsedChangedPropsIds' in body) { body.parsedChangedPropsIds = [id + '.value']; }
    return body;
  }

  function keyOf(body) {
    const entry = function (e) { return [e.id, e.property, e.value]; };
    return JSON.stringify([body.output, (body.inputs || []).map(entry), (body.state || []).map(entry),
                           body.changedPropIds]);
  }

  function read(response) {
    return response.text().then(function (text) {
      answerBytes = text.length;
      return JSON.parse(text);
    });
  }

  // Resolves after the next frame has been drawn (or FRAME_MS at the latest: a hidden page draws no frames).
  const FRAME_MS = 100;
  function afterFrame() {
    return new Promise(function (resolve) {
      requestAnimationFrame(function () { setTimeout(resolve, 0); });
      setTimeout(resolve, FRAME_MS);
    });
  }

  // Paint a map answer as it arrives (3.); resolves once Dash may have it: when painted, after the next frame,
  // so Dash's renderer work on the same answer (~200-300 ms at 11,000 areas) does not hold up the recoloured
  // map's frame, as the touch picker tells Dash only after its paint (2.).
  function paintEarly(response, which) {
    return read(response).then(function (answer) {
      // A newer request's answer will follow.
      return which === newest && paint(answer) ? afterFrame() : null;
    }).catch(function () { /* Dash reports a broken answer itself */ });
  }

  if (window.fetch && !window.fetch.oaSwitch) {
    const plain = window.fetch.bind(window);
    const switching = function (resource, init) {
      const url = typeof resource === 'string' ? resource : '';
      const text = init && typeof init.body === 'string' ? init.body : '';
      if (url.indexOf('/_dash-update-component') < 0 || text.indexOf(MAP_OUTPUT) < 0) {
        return plain(resource, init);
      }
      let body;
      try { body = JSON.parse(text); } catch (e) { return plain(resource, init); }
      template = {url: url, init: init, body: body};
      const ahead = early;
      early = null;
      const matched = ahead && ahead.key === keyOf(body) && performance.now() - ahead.at < AHEAD_MS;
      const answer = matched ? ahead.answer : plain(resource, init);
      newest += 1;
      const which = newest;
      return answer.then(function (response) {
        // A touch choice painted its answer before telling Dash (2.); every other answer is painted here.
        const given = function () { return response.clone(); };  // the early answer may be shared: each reader a copy
        if (!(matched && ahead.painted) && response.ok && response.status === 200) {
          return paintEarly(response.clone(), which).then(given);
        }
        return given();
      });
    };
    switching.oaSwitch = true;
    window.fetch = switching;

    const ask = function (body) {
      return plain(template.url, Object.assign({}, template.init, {body: JSON.stringify(body)}));
    };

    // Send the map's request for `value` now, ahead of Dash's own (see 2. above); its answer, or null. The same
    // request already sent ahead and not yet taken by Dash is not sent again (a press, then its click: 4.).
    ns.sendAhead = function (id, value) {
      const body = requestFor(id, value);
      if (!body) { return null; }
      const key = keyOf(body);
      if (early && early.key === key && performance.now() - early.at < AHEAD_MS) { return early.answer; }
      const kept = performance.now() - prefetchedAt < PREFETCH_MS ? prefetched.get(key) : undefined;
      prefetched = new Map();  // the page's state changes with this choice
      const entry = {key: key, answer: kept || ask(body), at: performance.now(), painted: false};
      // A failed early answer is forgotten, so Dash's own request, if it comes later, is sent afresh.
      const forget = function () { if (early === entry) { early = null; } };
      entry.answer.then(function (response) { if (!response.ok) { forget(); } }, forget);
      early = entry;
      return entry.answer;
    };

    // Whether `id`.value is an input of the map's callback (so a choice there changes the map's request).
    ns.movesMap = function (id) {
      return !!template && (template.body.inputs || []).some(function (e) {
        return e && e.id === id && e.property === 'value';
      });
    };

    // The answers for every other option of a picker whose list is being opened (2a. above).
    ns.askAround = function (select) {
      if (!template || answerBytes > PREFETCH_MAX_BYTES || select.options.length > PREFETCH_MAX_OPTIONS) { return; }
      if (performance.now() - prefetchedAt > PREFETCH_MS) { prefetched = new Map(); }
      prefetchedAt = performance.now();
      Array.from(select.options).forEach(function (option) {
        if (option.value === select.value || option.disabled) { return; }
        const body = requestFor(select.dataset.for, option.value);
        const key = body && keyOf(body);
        if (!body || prefetched.has(key)) { return; }
        const answer = ask(body);
        answer.catch(function () { prefetched.delete(key); });
        prefetched.set(key, answer);
      });
    };
  }

  function paint(answer) {
    const map = ((answer || {}).response || {})['ex-geojson'];
    // New geometry (another level or boundary set) is Dash's to draw.
    if (!map || !map.hideout || 'data' in map || !ns.map || !ns.map.paint) { return false; }
    return ns.map.paint(map.hideout);
  }

  // A choice in a touch picker: the map's answer painted first where it can be (2. above), then Dash told.
  const HOLD_MS = 1000;  // longest wait for the early answer before Dash is told anyway
  let choices = 0;
  function choose(id, value) {
    const mine = ++choices;
    let told = false;
    const tell = function () {
      if (told) { return; }
      told = true;
      if (mine === choices) { window.dash_clientside.set_props(id, {value: value}); }
    };
    const ahead = ns.sendAhead ? ns.sendAhead(id, value) : null;
    if (!ahead) { tell(); return; }
    const entry = early;
    setTimeout(tell, HOLD_MS);
    ahead.then(function (response) {
      return response.ok && response.status === 200 ? read(response.clone()) : null;
    }).then(function (answer) {
      // Painted, Dash is told after the next frame, so its work does not hold up the recoloured map's frame.
      if (mine === choices && !told && paint(answer)) {
        if (entry) { entry.painted = true; }
        requestAnimationFrame(function () { setTimeout(tell, 0); });
      } else {
        tell();
      }
    }).catch(tell);  // Dash's own request meets the same failure and reports it
  }

  // The touch picker's options come as data (`data-options`, atlas/web/components.py `native_picker`): one
  // Dash component instead of one per option. They are put in as soon as the select is on the page.
  function fill(select) {
    let groups;
    try { groups = JSON.parse(select.dataset.options); } catch (e) { return; }
    select.dataset.filled = '1';
    const all = document.createDocumentFragment();
    groups.forEach(function (group) {
      let into = all;
      if (group[0] !== null) {
        into = document.createElement('optgroup');
        into.label = group[0];
        all.appendChild(into);
      }
      group[1].forEach(function (option) { into.appendChild(new Option(option[1], option[0])); });
    });
    select.appendChild(all);
    select.value = select.dataset.value || '';
  }
  function fillAll() {
    document.querySelectorAll('select[data-options]:not([data-filled])').forEach(fill);
  }
  new MutationObserver(fillAll).observe(document.documentElement, {childList: true, subtree: true});
  fillAll();

  document.addEventListener('focusin', function (event) {
    const select = event.target;
    if (select instanceof HTMLSelectElement && select.dataset.for && ns.askAround) { ns.askAround(select); }
  });

  // The desktop dropdown's option under an event (4. above): {id, value}, or null where the event is not on an
  // option of a single-value dropdown that moves the map, or the option is disabled or already chosen.
  function optionChosen(target) {
    const option = target && target.closest ? target.closest('.dash-dropdown-content [role=option]') : null;
    const input = option && option.querySelector('input[type=radio]');
    // Chosen already by the page's state (aria-selected, not the radio's checked: a click checks it before it is seen).
    if (!input || input.disabled || option.getAttribute('aria-selected') === 'true') { return null; }
    const list = option.closest('.dash-dropdown-content');
    const button = list && list.id ? document.querySelector('[aria-controls="' + CSS.escape(list.id) + '"]') : null;
    if (!button || !button.id || !ns.movesMap || !ns.movesMap(button.id)) { return null; }
    return {id: button.id, value: input.value};
  }
  // The option Enter in a dropdown's search box chooses: the first one listed (Dash takes the first match).
  function searchChosen(target) {
    if (!(target instanceof HTMLInputElement) || !target.classList.contains('dash-dropdown-search') || !target.value) {
      return null;
    }
    const list = target.closest('.dash-dropdown-content');
    return optionChosen(list && list.querySelector('[role=option][data-option-index="0"]'));
  }
  function aheadOf(choice) {
    if (choice && ns.sendAhead) { ns.sendAhead(choice.id, choice.value); }
  }
  // Capturing on the document runs before React's own listeners (on the page's root), so the request leaves
  // before Dash takes the value; only Dash's matching request lets its answer be painted (3.).
  // A touch on an option may start scrolling the list rather than choose: touch sends ahead on the click alone.
  document.addEventListener('pointerdown', function (event) {
    if (event.button === 0 && event.pointerType !== 'touch') { aheadOf(optionChosen(event.target)); }
  }, true);
  document.addEventListener('click', function (event) { aheadOf(optionChosen(event.target)); }, true);
  document.addEventListener('keyup', function (event) {
    if (event.key === 'Enter') { aheadOf(optionChosen(event.target) || searchChosen(event.target)); }
  }, true);

  document.addEventListener('change', function (event) {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.dataset.for || !select.value) { return; }
    if (!window.dash_clientside || !window.dash_clientside.set_props) { return; }
    choose(select.dataset.for, select.value);
  });
})(window.ortsatlas);
