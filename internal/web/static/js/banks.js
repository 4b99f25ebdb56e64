// The search for a bank and a branch by name, kana or code on the transfer
// and payee forms (templates/partials/bankpicker.html), as the user types:
// it asks GET /api/v1/banks?q= and GET /api/v1/banks/{code}/branches?q=
// with the page's session and fills the codes in when a match is chosen.
// Without it the form's search buttons do the same through the server.

const DELAY = 200; // milliseconds after the last key before a search

async function getJSON(url) {
  try {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) return null;
    return await res.json();
  } catch {
    return null;
  }
}

function showMatches(list, items, onPick) {
  if (items === null) {
    list.replaceChildren();
    return;
  }
  if (items.length === 0) {
    const li = document.createElement('li');
    li.className = 'hint bank-none';
    li.textContent = list.dataset.none || '';
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(...items.map((it) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'match';
    b.dataset.code = it.code;
    b.append(`${it.code} ${it.name} `);
    const kana = document.createElement('span');
    kana.className = 'kana';
    kana.textContent = it.kana;
    b.append(kana);
    b.addEventListener('click', () => onPick(it));
    li.append(b);
    return li;
  }));
}

function init(root) {
  const $ = (id) => root.querySelector('#' + id);
  const bankQ = $('bank_q'), branchQ = $('branch_q');
  const bankCode = $('bank_code'), branchCode = $('branch_code');
  const bankList = $('bank_matches'), branchList = $('branch_matches');
  const bankName = $('bank_name'), branchName = $('branch_name');
  const form = root.closest('form');

  const findBanks = async () => {
    const q = bankQ.value.trim();
    if (q === '') {
      bankList.replaceChildren();
      return;
    }
    const d = await getJSON('/api/v1/banks?q=' + encodeURIComponent(q));
    if (q === bankQ.value.trim()) showMatches(bankList, d && d.banks, pickBank);
  };
  const findBranches = async () => {
    const code = bankCode.value.trim();
    const q = branchQ.value.trim();
    if (!/^\d{4}$/.test(code)) {
      branchList.replaceChildren();
      return;
    }
    const d = await getJSON('/api/v1/banks/' + code + '/branches?q=' + encodeURIComponent(q));
    if (q === branchQ.value.trim()) showMatches(branchList, d && d.branches, pickBranch);
  };
  const nameCodes = async () => {
    const code = bankCode.value.trim();
    const branch = branchCode.value.trim();
    if (!/^\d{4}$/.test(code)) {
      bankName.textContent = '';
      branchName.textContent = '';
      return;
    }
    const d = await getJSON('/api/v1/banks/' + code + '/branches?q=' + encodeURIComponent(branch));
    bankName.textContent = d ? d.bank.name : '';
    const b = d && /^\d{3}$/.test(branch) ? d.branches.find((x) => x.code === branch) : null;
    branchName.textContent = b ? b.name : '';
  };
  function pickBank(b) {
    if (bankCode.value !== b.code) {
      branchCode.value = '';
      branchName.textContent = '';
    }
    bankCode.value = b.code;
    bankName.textContent = b.name;
    bankQ.value = '';
    bankList.replaceChildren();
    branchQ.focus();
  }
  function pickBranch(b) {
    branchCode.value = b.code;
    branchName.textContent = b.name;
    branchQ.value = '';
    branchList.replaceChildren();
    const next = form && form.querySelector('#account_type');
    if (next) next.focus();
  }

  const debounce = (fn) => {
    let timer;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, DELAY);
    };
  };
  bankQ.addEventListener('input', debounce(findBanks));
  branchQ.addEventListener('input', debounce(findBranches));
  branchQ.addEventListener('focus', () => {
    if (branchList.children.length === 0) findBranches();
  });
  for (const [input, fn] of [[bankQ, findBanks], [branchQ, findBranches]]) {
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        fn();
      }
    });
  }
  $('bank_search').addEventListener('click', (ev) => {
    ev.preventDefault();
    findBanks();
  });
  $('branch_search').addEventListener('click', (ev) => {
    ev.preventDefault();
    findBranches();
  });
  bankCode.addEventListener('change', nameCodes);
  branchCode.addEventListener('change', nameCodes);
}

for (const root of document.querySelectorAll('[data-bank-picker]')) init(root);
