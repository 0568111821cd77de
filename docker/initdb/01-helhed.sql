-- The service runs as an ordinary role that owns its database, never as the superuser.
CREATE ROLE helhed LOGIN PASSWORD 'helhed' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE helhed OWNER helhed;
