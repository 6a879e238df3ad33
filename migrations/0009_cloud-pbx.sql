-- Why: Rainbow Voice (D18, issue 15 items 1-2): each company's Cloud PBX inventory (numbering plan,
-- SIP devices, DDI numbers, service offers with licence counts) and who holds what in it.

CREATE TABLE cloud_pbxs (
  company_id  char(24) PRIMARY KEY REFERENCES companies (id),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Bounds of equal length, compared as text: a short number keeps its leading zeros.
CREATE TABLE cloud_pbx_ranges (
  company_id    char(24) NOT NULL REFERENCES cloud_pbxs (company_id),
  first_number  text NOT NULL CHECK (first_number ~ '^[0-9]{1,16}$'),
  last_number   text NOT NULL CHECK (last_number ~ '^[0-9]{1,16}$'),
  CHECK (length(first_number) = length(last_number) AND first_number <= last_number),
  PRIMARY KEY (company_id, first_number, last_number)
);

CREATE TABLE voice_subscribers (
  user_id       char(24) PRIMARY KEY REFERENCES users (id),
  company_id    char(24) NOT NULL REFERENCES cloud_pbxs (company_id),
  short_number  text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (company_id, short_number)
);

CREATE TABLE sip_devices (
  id           char(24) PRIMARY KEY,
  company_id   char(24) NOT NULL REFERENCES cloud_pbxs (company_id),
  mac_address  text NOT NULL UNIQUE CHECK (mac_address ~ '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'),
  model        text,
  user_id      char(24) UNIQUE REFERENCES users (id),
  attached_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sip_devices_company ON sip_devices (company_id, mac_address);

CREATE TABLE ddi_numbers (
  id           char(24) PRIMARY KEY,
  company_id   char(24) NOT NULL REFERENCES cloud_pbxs (company_id),
  number       text NOT NULL UNIQUE CHECK (number ~ '^\+[1-9][0-9]{5,14}$'),
  user_id      char(24) UNIQUE REFERENCES users (id),
  attached_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ddi_numbers_company ON ddi_numbers (company_id, number);

-- A licence is used by each live user of the company whose services name the offer.
CREATE TABLE voice_services (
  company_id  char(24) NOT NULL REFERENCES cloud_pbxs (company_id),
  name        text NOT NULL,
  licences    integer NOT NULL CHECK (licences >= 0),
  PRIMARY KEY (company_id, name)
);
