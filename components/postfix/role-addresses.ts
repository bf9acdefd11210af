// RFC 5321 section 4.5.1 and RFC 2142: these local parts must reach a person in every hosted
// domain; mailfleet generates them (to mailfleet:postmaster) unless an alias names them.
export const ROLE_ADDRESSES = ["postmaster", "abuse"];
