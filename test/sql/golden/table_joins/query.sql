-- golden: final rows per key
-- Changelog tables joined with tables: orders with the customer their foreign key names (inner and
-- left), customers with their credit on both primary keys (full), a filtered table; updates and
-- deletes (tombstones) of either side revise the joined rows.
CREATE TABLE customers (id BIGINT, name TEXT, country TEXT, PRIMARY KEY (id)) WITH (topic = 'customers', format = 'json');
CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id BIGINT, amount DOUBLE) WITH (topic = 'orders');
CREATE TABLE credit (customer_id BIGINT PRIMARY KEY, limit_eur DOUBLE) WITH (topic = 'credit');

CREATE MATERIALIZED VIEW order_details AS
SELECT o.order_id, o.amount, c.name FROM orders o JOIN customers c ON o.customer_id = c.id;

CREATE MATERIALIZED VIEW orders_left AS
SELECT o.order_id, c.country FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE o.amount > 10;

CREATE MATERIALIZED VIEW customer_credit AS
SELECT c.id, c.name, k.customer_id, k.limit_eur FROM customers c FULL JOIN credit k ON c.id = k.customer_id;

CREATE MATERIALIZED VIEW credit_right AS
SELECT k.customer_id, c.name FROM customers c RIGHT JOIN credit k ON c.id = k.customer_id;

CREATE MATERIALIZED VIEW dutch AS SELECT id, name FROM customers WHERE country = 'NL';

CREATE SINK s1 FROM order_details WITH (topic = 'order-details');
CREATE SINK s2 FROM orders_left WITH (topic = 'orders-left');
CREATE SINK s3 FROM customer_credit WITH (topic = 'customer-credit');
CREATE SINK s4 FROM credit_right WITH (topic = 'credit-right');
CREATE SINK s5 FROM dutch WITH (topic = 'dutch');
