// A table-table join of two changelog topics: accounts (owner) and balances, both keyed by
// account id. The joined table changes when either side does, loses a row when a side's row is
// deleted (a tombstone), and is written as a compacted changelog: the latest row per account.
import { Sluice } from 'sluice';

type Account = { owner: string };
type Balance = { amount: number };

const app = new Sluice({ name: 'table-join', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

const accounts = app.table<Account>('accounts');
const balances = app.table<Balance>('balances');

accounts
  .join(balances, (account, balance) => ({ owner: account.owner, balance: balance.amount }), { name: 'account-balances' })
  .to('account-balances');

await app.run({ bounded: true });
